import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DockerEngine } from '../../providers/docker/engine.js';
import { monitoringContainerObject, type MonitoringContainerObject } from '../../providers/docker/monitoring/objects.js';
import { MONITORING_VOLUME_KEYS, type DockerMonitoringSpec, type MonitoringService } from '../../providers/docker/monitoring/plan.js';
import type { MonitoringSecret } from '../../providers/docker/monitoring/plan.js';
import { testEngine } from './images.js';

/**
 * Stands a stack's monitoring up with the docker CLI from the Docker objects the Pulumi program
 * declares (providers/docker/monitoring/objects.ts), as docker-infra.ts does for the
 * infrastructure: this file only spells those objects' fields as docker flags.
 */
export interface MonitoringHandle {
  spec: DockerMonitoringSpec;
  containers: Partial<Record<MonitoringService, string>>;
  /** Removes the containers and volumes stand-up created. */
  tearDown(): Promise<void>;
}

/** Only loopback: tests reach containers through 127.0.0.1 and nothing else. */
const TEST_HOST_IP = '127.0.0.1';

type FieldFlags<T> = { [K in keyof T]-?: (value: NonNullable<T[K]>) => string[] };

/** Every field of a monitoring container object and its docker flags; a new field does not compile until spelled here. */
const FLAGS: FieldFlags<MonitoringContainerObject<string>> = {
  name: (name) => ['--name', name],
  image: () => [],
  command: () => [],
  envs: (envs) => envs.flatMap((entry) => ['-e', entry]),
  volumes: (volumes) => volumes.flatMap((volume) => ['--volume', `${volume.volumeName}:${volume.containerPath}`]),
  mounts: (mounts) => mounts.flatMap((mount) => ['--mount', `type=${mount.type},source=${mount.source},target=${mount.target}${mount.readOnly ? ',readonly' : ''}`]),
  networksAdvanced: (networks) => networks.flatMap((network) => ['--network', network.name, ...network.aliases.flatMap((alias) => ['--network-alias', alias])]),
  ports: (ports) =>
    ports.flatMap((port) => {
      if (port.ip !== TEST_HOST_IP) throw new Error(`A test stack would publish ${port.internal} on ${port.ip}; test stacks publish on ${TEST_HOST_IP} only`);
      return ['--publish', `${port.ip}::${port.internal}/${port.protocol}`];
    }),
  restart: (restart) => ['--restart', restart],
  // Copied in between create and start.
  uploads: () => [],
  labels: (labels) => labels.flatMap(({ label, value }) => ['--label', `${label}=${value}`]),
  stopTimeout: (seconds) => ['--stop-timeout', String(seconds)],
};

/** The object as the CLI refers to things: by name; a secret variable as `-e NAME`, its value in the CLI's env. */
function cliObject(spec: DockerMonitoringSpec, service: MonitoringService): MonitoringContainerObject<string> {
  const container = spec.containers[service];
  return monitoringContainerObject(container, {
    image: container.image,
    network: container.network,
    volume: (key) => spec.volumes[key].name,
    secretEnv: (variable) => variable,
  });
}

/** `docker create` for one monitoring container; secret variables go as `-e NAME`. */
export function planMonitoringCreate(spec: DockerMonitoringSpec, service: MonitoringService): string[] {
  const object = cliObject(spec, service);
  const args = ['create'];
  for (const [field, value] of Object.entries(object)) {
    if (value === undefined) continue;
    args.push(...(FLAGS as Record<string, (value: never) => string[]>)[field]!(value as never));
  }
  return [...args, object.image, ...(object.command ?? [])];
}

export async function standUpMonitoring(
  spec: DockerMonitoringSpec,
  options: { services: readonly MonitoringService[]; secrets: Partial<Record<MonitoringSecret, string>>; engine?: DockerEngine },
): Promise<MonitoringHandle> {
  const engine = options.engine ?? testEngine;
  const created = { containers: [] as string[], volumes: [] as string[] };
  const tearDown = async () => {
    for (const container of [...created.containers].reverse()) await engine.exec(['rm', '-f', '-v', container]);
    for (const volume of created.volumes) await engine.exec(['volume', 'rm', '-f', volume]);
  };
  try {
    for (const key of MONITORING_VOLUME_KEYS) {
      const volume = spec.volumes[key];
      await engine.run(['volume', 'create', ...Object.entries(volume.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]), volume.name]);
      created.volumes.push(volume.name);
    }
    const containers: MonitoringHandle['containers'] = {};
    for (const service of options.services) {
      const container = spec.containers[service];
      const env: Record<string, string> = {};
      for (const [variable, secret] of Object.entries(container.secretEnv)) {
        const value = options.secrets[secret];
        if (value === undefined) throw new Error(`standUpMonitoring needs secrets.${secret} for ${container.name}`);
        env[variable] = value;
      }
      await engine.run(planMonitoringCreate(spec, service), { env });
      created.containers.push(container.name);
      const { uploads } = cliObject(spec, service);
      if (uploads.length > 0) {
        // As the provider uploads (one archive extracted at /, so missing folders are created):
        // the files under their full paths in a folder, copied onto the container's root.
        const dir = mkdtempSync(join(tmpdir(), 'tk-upload-'));
        try {
          for (const upload of uploads) {
            const file = join(dir, upload.file);
            mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
            writeFileSync(file, upload.content, { mode: 0o644 });
          }
          await engine.run(['cp', `${dir}/.`, `${container.name}:/`]);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
      await engine.run(['start', container.name]);
      containers[service] = container.name;
    }
    return { spec, containers, tearDown };
  } catch (error) {
    await tearDown().catch(() => undefined);
    throw error;
  }
}
