import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DockerEngine } from '../../providers/docker/engine.js';
import type { ContainerSpec, DockerInfrastructureSpec, PortName } from '../../providers/docker/infrastructure-spec.js';
import { VOLUME_KEYS } from '../../providers/docker/infrastructure-spec.js';
import {
  type ContainerObject,
  type NetworkObject,
  type VolumeObject,
  containerObject,
  networkObject,
  volumeObject,
} from '../../providers/docker/infrastructure-objects.js';
import type { SecretValues } from '../../providers/stack-secrets.js';
import { testEngine } from './images.js';

/**
 * Stands up a stack's stable infrastructure with the docker CLI from the Docker objects the Pulumi
 * program declares (providers/docker/infrastructure-objects.ts), so Docker tests of the release
 * run against the very network, volumes, containers, aliases, variables and ports a real stack
 * gets. This file only spells those objects' fields as docker flags;
 * test/docker/infra/declaration-drift.test.ts checks the spelling against `docker inspect`.
 */
export interface StandUpOptions {
  /** Values of the specs' secret references (`secretEnv`). */
  secrets: Partial<SecretValues>;
  engine?: DockerEngine;
  /**
   * Publish on host ports Docker picks (`127.0.0.1::<port>`) instead of the spec's fixed ones,
   * so parallel runs never collide. @default true
   */
  ephemeralPorts?: boolean;
}

export interface InfrastructureHandle {
  spec: DockerInfrastructureSpec;
  network: string;
  volumes: string[];
  containers: { postgres: string; caddy: string };
  /** Host ports Caddy's public listeners are published on, read back with `docker port`. */
  ports: Record<PortName, number>;
  /** Reads the published ports again (Docker picks new ephemeral ones when Caddy restarts). */
  readPorts(): Promise<Record<PortName, number>>;
  /**
   * Removes a container and creates it again, its volumes kept: what `pulumi up` does when a
   * container's settings change (`replacement`: its new plan, same name; default: as planned).
   * Waits for it as stand-up does, and updates `ports`.
   */
  replaceContainer(role: 'postgres' | 'caddy', replacement?: ContainerSpec): Promise<void>;
  /** Removes every object stand-up created, whatever state it is in. */
  tearDown(): Promise<void>;
}

/** Only loopback: tests reach containers through 127.0.0.1 and nothing else. */
const TEST_HOST_IP = '127.0.0.1';

function planNetworkCreate(network: NetworkObject): string[] {
  return ['network', 'create', '--driver', network.driver, ...labelFlags(network.labels), network.name];
}

function planVolumeCreate(volume: VolumeObject): string[] {
  return ['volume', 'create', ...labelFlags(volume.labels), volume.name];
}

/** The container's object as the CLI refers to things: by name; a secret variable as `-e NAME`, its value in the CLI's env. */
function cliContainerObject(container: ContainerSpec, spec: DockerInfrastructureSpec): ContainerObject<string> {
  return containerObject(container, {
    image: container.image,
    network: spec.network.name,
    volume: (key) => spec.volumes[key].name,
    secretEnv: (variable) => variable,
  });
}

/** `docker create` for a container of the spec; secret variables go as `-e NAME` (value in the CLI's env). */
export function planContainerCreate(container: ContainerSpec, spec: DockerInfrastructureSpec, options: { ephemeralPorts: boolean }): string[] {
  const object = cliContainerObject(container, spec);
  const flags = containerFlags(options);
  const args = ['create'];
  for (const [field, value] of Object.entries(object)) {
    if (value === undefined) continue;
    const spell = (flags as Record<string, ((value: never) => string[]) | undefined>)[field];
    if (!spell) throw new Error(`The test stand-up cannot create containers with "${field}": teach containerFlags() in test/support/docker-infra.ts`);
    args.push(...spell(value as never));
  }
  args.push(object.image, ...(object.command ?? []));
  return args;
}

/**
 * Every field of a container object and its docker flags. A field added to ContainerObject does
 * not compile until it is spelled here.
 */
type FieldFlags<T> = { [K in keyof T]-?: (value: NonNullable<T[K]>) => string[] };

function containerFlags(options: { ephemeralPorts: boolean }): FieldFlags<ContainerObject<string>> {
  return {
    name: (name) => ['--name', name],
    // Positional, after the flags.
    image: () => [],
    command: () => [],
    envs: (envs) => envs.flatMap((entry) => ['-e', entry]),
    volumes: (volumes) => volumes.flatMap((volume) => ['--volume', `${volume.volumeName}:${volume.containerPath}`]),
    networksAdvanced: (networks) => {
      // `docker create` joins one network; more would need `docker network connect`.
      if (networks.length !== 1) throw new Error(`The test stand-up joins exactly one network, not ${networks.length}`);
      const [network] = networks as [ContainerObject<string>['networksAdvanced'][number]];
      return ['--network', network.name, ...network.aliases.flatMap((alias) => ['--network-alias', alias])];
    },
    ports: (ports) =>
      ports.flatMap((port) => {
        if (port.ip !== TEST_HOST_IP) throw new Error(`A test stack would publish ${port.internal} on ${port.ip}; test stacks publish on ${TEST_HOST_IP} only`);
        const host = options.ephemeralPorts ? `${port.ip}:` : `${port.ip}:${port.external}`;
        return ['--publish', `${host}:${port.internal}/${port.protocol}`];
      }),
    restart: (restart) => ['--restart', restart],
    healthcheck: (check) => [
      // --health-cmd is Docker's CMD-SHELL form, the only one the object has.
      '--health-cmd', check.tests[1],
      '--health-interval', check.interval,
      '--health-timeout', check.timeout,
      '--health-retries', String(check.retries),
      '--health-start-period', check.startPeriod,
    ],
    // Copied in between create and start.
    uploads: () => [],
    labels: labelFlags,
    stopTimeout: (seconds) => ['--stop-timeout', String(seconds)],
    // Awaited after start.
    wait: () => [],
    waitTimeout: () => [],
  };
}

function labelFlags(labels: { label: string; value: string }[]): string[] {
  return labels.flatMap(({ label, value }) => ['--label', `${label}=${value}`]);
}

/** The host port of `docker port` output such as `127.0.0.1:49153`. */
function parsePublishedPort(output: string): number {
  const first = output.trim().split('\n')[0] ?? '';
  const port = Number(first.slice(first.lastIndexOf(':') + 1));
  if (!Number.isInteger(port) || port <= 0) throw new Error(`Unexpected docker port output: ${output}`);
  return port;
}

export async function standUpInfrastructure(spec: DockerInfrastructureSpec, options: StandUpOptions): Promise<InfrastructureHandle> {
  const engine = options.engine ?? testEngine;
  const ephemeralPorts = options.ephemeralPorts ?? true;
  const created: { containers: string[]; volumes: string[]; network?: string } = { containers: [], volumes: [] };

  const tearDown = async () => {
    const failures: string[] = [];
    const attempt = async (args: string[]) => {
      const result = await engine.exec(args);
      if (result.exitCode !== 0 && !/no such|not found/i.test(result.stderr)) failures.push(`docker ${args.join(' ')}: ${result.stderr.trim()}`);
    };
    for (const container of [...created.containers].reverse()) await attempt(['rm', '-f', '-v', container]);
    for (const volume of created.volumes) await attempt(['volume', 'rm', '-f', volume]);
    if (created.network) {
      // Whatever still sits on the stack's network is the test's own (a slot, a gate probe whose
      // `--rm` is still under way): remove it, then the network; Docker may need a moment to let
      // go of the endpoints of containers it is removing.
      const attached = await engine.exec(['network', 'inspect', '--format', '{{range .Containers}}{{.Name}} {{end}}', created.network]);
      const names = attached.exitCode === 0 ? attached.stdout.trim().split(/\s+/).filter(Boolean) : [];
      if (names.length > 0) await engine.exec(['rm', '-f', '-v', ...names]);
      for (let tries = 1; ; tries++) {
        const result = await engine.exec(['network', 'rm', created.network]);
        if (result.exitCode === 0 || /no such|not found/i.test(result.stderr)) break;
        if (!/active endpoints/i.test(result.stderr) || tries === 20) {
          failures.push(`docker network rm ${created.network}: ${result.stderr.trim()}`);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    if (failures.length > 0) throw new Error(`Tear-down left objects behind:\n${failures.join('\n')}`);
  };

  // The containers as they run now: replaceContainer() may swap one for its new plan.
  const current = { postgres: spec.postgres, caddy: spec.caddy };
  const readPorts = async () => {
    const ports = {} as Record<PortName, number>;
    for (const port of current.caddy.ports) {
      ports[port.name] = parsePublishedPort(await engine.run(['port', current.caddy.name, `${port.containerPort}/tcp`]));
    }
    return ports;
  };

  try {
    created.network = spec.network.name;
    await engine.run(planNetworkCreate(networkObject(spec.network)));
    for (const key of VOLUME_KEYS) {
      created.volumes.push(spec.volumes[key].name);
      await engine.run(planVolumeCreate(volumeObject(spec.volumes[key])));
    }
    // Started together, then awaited, as Pulumi creates the two (neither depends on the other).
    const containers = [spec.postgres, spec.caddy];
    for (const container of containers) {
      created.containers.push(container.name);
      await createAndStart(engine, container, spec, options.secrets, ephemeralPorts);
    }
    for (const container of containers) {
      const object = cliContainerObject(container, spec);
      if (object.wait) await waitHealthy(engine, object.name, (object.waitTimeout ?? 60) * 1000);
    }
    const handle: InfrastructureHandle = {
      spec,
      network: spec.network.name,
      volumes: [...created.volumes],
      containers: { postgres: spec.postgres.name, caddy: spec.caddy.name },
      ports: await readPorts(),
      readPorts,
      async replaceContainer(role, replacement = current[role]) {
        if (replacement.name !== current[role].name) throw new Error(`replaceContainer: ${replacement.name} is not ${current[role].name}`);
        await engine.run(['rm', '--force', current[role].name]);
        current[role] = replacement;
        await createAndStart(engine, replacement, spec, options.secrets, ephemeralPorts);
        const object = cliContainerObject(replacement, spec);
        if (object.wait) await waitHealthy(engine, object.name, (object.waitTimeout ?? 60) * 1000);
        const ports = await readPorts();
        for (const name of Object.keys(handle.ports) as PortName[]) delete handle.ports[name];
        Object.assign(handle.ports, ports);
      },
      tearDown,
    };
    return handle;
  } catch (error) {
    await tearDown().catch(() => undefined);
    throw error;
  }
}

async function createAndStart(engine: DockerEngine, container: ContainerSpec, spec: DockerInfrastructureSpec, secrets: Partial<SecretValues>, ephemeralPorts: boolean): Promise<void> {
  const env: Record<string, string> = {};
  for (const [key, secretName] of Object.entries(container.secretEnv)) {
    const value = secrets[secretName];
    if (value === undefined) throw new Error(`standUpInfrastructure needs secrets.${secretName} for ${container.name}`);
    env[key] = value;
  }
  await engine.run(planContainerCreate(container, spec, { ephemeralPorts }), { env });
  const { uploads } = cliContainerObject(container, spec);
  if (uploads.length > 0) {
    const dir = mkdtempSync(join(tmpdir(), 'tk-upload-'));
    try {
      for (const [i, upload] of uploads.entries()) {
        const file = join(dir, String(i));
        writeFileSync(file, upload.content, { mode: 0o644 });
        await engine.run(['cp', file, `${container.name}:${upload.file}`]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  await engine.run(['start', container.name]);
}

/** As the provider's `wait`: healthy within the timeout, or a failure that shows why. */
async function waitHealthy(engine: DockerEngine, container: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [status = '', health = ''] = (await engine.run(['inspect', '--format', '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}', container])).trim().split(' ');
    if (health === 'healthy') return;
    if (status !== 'running' || Date.now() > deadline) {
      const logs = await engine.exec(['logs', '--tail', '30', container]);
      throw new Error(`${container} did not become healthy within ${timeoutMs} ms (${status}, ${health || 'no health check'}):\n${logs.stdout}${logs.stderr}`);
    }
    await sleep(250);
  }
}
