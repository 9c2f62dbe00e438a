import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerEngine } from '../../providers/docker/engine.js';
import type { ContainerSpec, DockerInfrastructureSpec, PortName } from '../../providers/docker/infrastructure-spec.js';
import { VOLUME_KEYS } from '../../providers/docker/infrastructure-spec.js';
import type { SecretValues } from '../../providers/stack-secrets.js';
import { testEngine } from './images.js';

/**
 * Stands up a stack's stable infrastructure with the docker CLI from the same plan the Pulumi
 * program declares (planDockerInfrastructure), so Docker tests of the release run against the
 * very network, volumes, containers, aliases, variables and ports a real stack gets.
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
  /** Removes every object stand-up created, whatever state it is in. */
  tearDown(): Promise<void>;
}

/** Only loopback: tests reach containers through 127.0.0.1 and nothing else. */
const TEST_HOST_IP = '127.0.0.1';

export function planNetworkCreate(spec: DockerInfrastructureSpec): string[] {
  return ['network', 'create', '--driver', 'bridge', ...labelArgs(spec.network.labels), spec.network.name];
}

export function planVolumeCreate(volume: DockerInfrastructureSpec['volumes'][keyof DockerInfrastructureSpec['volumes']]): string[] {
  return ['volume', 'create', ...labelArgs(volume.labels), volume.name];
}

/** `docker create` for a container of the spec; secret variables go as `-e NAME` (value in the CLI's env). */
export function planContainerCreate(container: ContainerSpec, spec: DockerInfrastructureSpec, options: { ephemeralPorts: boolean }): string[] {
  const args = ['create', '--name', container.name, '--network', container.network];
  for (const alias of container.aliases) args.push('--network-alias', alias);
  args.push('--restart', container.restart, '--stop-timeout', String(container.stopTimeoutSeconds));
  args.push(...labelArgs(container.labels));
  for (const [key, value] of Object.entries(container.env)) args.push('-e', `${key}=${value}`);
  for (const key of Object.keys(container.secretEnv)) args.push('-e', key);
  for (const mount of container.mounts) args.push('-v', `${spec.volumes[mount.volume].name}:${mount.containerPath}`);
  for (const port of container.ports) {
    if (port.hostIp !== TEST_HOST_IP) throw new Error(`${container.name} would publish ${port.name} on ${port.hostIp}; test stacks publish on ${TEST_HOST_IP} only`);
    args.push('-p', options.ephemeralPorts ? `${port.hostIp}::${port.containerPort}` : `${port.hostIp}:${port.hostPort}:${port.containerPort}`);
  }
  if (container.healthcheck) {
    const check = container.healthcheck;
    args.push(
      '--health-cmd', check.shell,
      '--health-interval', `${check.intervalSeconds}s`,
      '--health-timeout', `${check.timeoutSeconds}s`,
      '--health-retries', String(check.retries),
      '--health-start-period', `${check.startPeriodSeconds}s`,
    );
  }
  args.push(container.image, ...(container.command ?? []));
  return args;
}

function labelArgs(labels: Record<string, string>): string[] {
  return Object.entries(labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]);
}

/** The host port of `docker port` output such as `127.0.0.1:49153`. */
export function parsePublishedPort(output: string): number {
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
    if (created.network) await attempt(['network', 'rm', created.network]);
    if (failures.length > 0) throw new Error(`Tear-down left objects behind:\n${failures.join('\n')}`);
  };

  try {
    created.network = spec.network.name;
    await engine.run(planNetworkCreate(spec));
    for (const key of VOLUME_KEYS) {
      created.volumes.push(spec.volumes[key].name);
      await engine.run(planVolumeCreate(spec.volumes[key]));
    }
    for (const container of [spec.postgres, spec.caddy]) {
      created.containers.push(container.name);
      await createAndStart(engine, container, spec, options.secrets, ephemeralPorts);
    }
    const ports = {} as Record<PortName, number>;
    for (const port of spec.caddy.ports) {
      ports[port.name] = parsePublishedPort(await engine.run(['port', spec.caddy.name, `${port.containerPort}/tcp`]));
    }
    return {
      spec,
      network: spec.network.name,
      volumes: [...created.volumes],
      containers: { postgres: spec.postgres.name, caddy: spec.caddy.name },
      ports,
      tearDown,
    };
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
  if (container.uploads.length > 0) {
    const dir = mkdtempSync(join(tmpdir(), 'tk-upload-'));
    try {
      for (const [i, upload] of container.uploads.entries()) {
        const file = join(dir, String(i));
        writeFileSync(file, upload.content, { mode: 0o644 });
        await engine.run(['cp', file, `${container.name}:${upload.path}`]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  await engine.run(['start', container.name]);
}
