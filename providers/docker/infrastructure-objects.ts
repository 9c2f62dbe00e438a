import type { SecretName } from '../stack-secrets.js';
import type { ContainerSpec, DockerInfrastructureSpec, VolumeKey, VolumeSpec } from './infrastructure-spec.js';

/**
 * The Docker objects of an infrastructure spec, field by field as the engine receives them, in
 * the shape of @pulumi/docker's resource args: the one mapping from the spec to Docker. The
 * Pulumi component (infrastructure.ts) declares these objects; the test stand-up
 * (test/support/docker-infra.ts) hands the same fields to the docker CLI, and
 * test/docker/infra/declaration-drift.test.ts compares the two on a real engine.
 */

export interface LabelEntry {
  label: string;
  value: string;
}

export interface NetworkObject {
  name: string;
  driver: 'bridge';
  labels: LabelEntry[];
}

export interface VolumeObject {
  name: string;
  labels: LabelEntry[];
}

/**
 * How a container refers to what it needs. The CLI passes names; Pulumi passes resource outputs,
 * so the container is created after its image, network and volumes.
 */
export interface ContainerReferences<R> {
  image: R;
  network: R;
  volume(key: VolumeKey): R;
  /** The `envs` entry of a secret variable: its value never enters the spec (nor, for the CLI, argv). */
  secretEnv(variable: string, secret: SecretName): R;
}

export interface ContainerObject<R> {
  name: string;
  image: R;
  /** Overrides the image's CMD; absent keeps it. */
  command?: string[];
  /** `KEY=value` for plain variables, then the secret ones as the references make them. */
  envs: (string | R)[];
  volumes: { volumeName: R; containerPath: string }[];
  networksAdvanced: { name: R; aliases: string[] }[];
  ports: { internal: number; external: number; ip: string; protocol: 'tcp' }[];
  restart: ContainerSpec['restart'];
  /** Durations in Go's syntax (`5s`), as both the provider and `docker run --health-*` take them. */
  healthcheck?: { tests: ['CMD-SHELL', string]; interval: string; timeout: string; retries: number; startPeriod: string };
  uploads: { file: string; content: string }[];
  labels: LabelEntry[];
  stopTimeout: number;
  /** Creation returns once the container is healthy, or fails after `waitTimeout` seconds. */
  wait?: boolean;
  waitTimeout?: number;
}

export function networkObject(network: DockerInfrastructureSpec['network']): NetworkObject {
  return { name: network.name, driver: 'bridge', labels: labelEntries(network.labels) };
}

export function volumeObject(volume: VolumeSpec): VolumeObject {
  return { name: volume.name, labels: labelEntries(volume.labels) };
}

export function containerObject<R>(container: ContainerSpec, refs: ContainerReferences<R>): ContainerObject<R> {
  const check = container.healthcheck;
  return {
    name: container.name,
    image: refs.image,
    ...(container.command ? { command: container.command } : {}),
    envs: [
      ...Object.entries(container.env).map(([key, value]) => `${key}=${value}`),
      ...Object.entries(container.secretEnv).map(([key, secret]) => refs.secretEnv(key, secret)),
    ],
    volumes: container.mounts.map((mount) => ({ volumeName: refs.volume(mount.volume), containerPath: mount.containerPath })),
    networksAdvanced: [{ name: refs.network, aliases: container.aliases }],
    ports: container.ports.map((port) => ({ internal: port.containerPort, external: port.hostPort, ip: port.hostIp, protocol: 'tcp' as const })),
    restart: container.restart,
    ...(check
      ? {
          healthcheck: {
            tests: ['CMD-SHELL', check.shell] as ['CMD-SHELL', string],
            interval: `${check.intervalSeconds}s`,
            timeout: `${check.timeoutSeconds}s`,
            retries: check.retries,
            startPeriod: `${check.startPeriodSeconds}s`,
          },
        }
      : {}),
    uploads: container.uploads.map((upload) => ({ file: upload.path, content: upload.content })),
    labels: labelEntries(container.labels),
    stopTimeout: container.stopTimeoutSeconds,
    ...(container.waitHealthySeconds !== undefined ? { wait: true, waitTimeout: container.waitHealthySeconds } : {}),
  };
}

function labelEntries(labels: Record<string, string>): LabelEntry[] {
  return Object.entries(labels).map(([label, value]) => ({ label, value }));
}
