import type { LabelEntry } from '../infrastructure-objects.js';
import type { MonitoringContainerSpec, MonitoringSecret, MonitoringVolumeKey } from './plan.js';

/**
 * The Docker fields of a monitoring container, in the shape of @pulumi/docker's ContainerArgs:
 * the one mapping from the plan to Docker. The Pulumi component declares these; the test
 * stand-up (test/support/docker-monitoring.ts) spells the same fields as docker flags.
 */
export interface MonitoringReferences<R> {
  image: R;
  network: R;
  volume(key: MonitoringVolumeKey): R;
  /** The `envs` entry of a secret variable: its value never enters the plan (nor argv). */
  secretEnv(variable: string, secret: MonitoringSecret): R;
}

export interface MonitoringContainerObject<R> {
  name: string;
  image: R;
  command?: string[];
  envs: (string | R)[];
  volumes: { volumeName: R; containerPath: string }[];
  /**
   * Host folders, read-only. No `rslave` propagation (node-exporter's docs suggest it so mounts
   * made later show too): Docker refuses it where the host's / is a private mount, and a
   * container target must start on any host; node-exporter restarts pick new mounts up.
   */
  mounts: { type: 'bind'; source: string; target: string; readOnly: true }[];
  networksAdvanced: { name: R; aliases: string[] }[];
  ports: { internal: number; external: number; ip: string; protocol: 'tcp' }[];
  restart: MonitoringContainerSpec['restart'];
  uploads: { file: string; content: string }[];
  labels: LabelEntry[];
  stopTimeout: number;
}

export function monitoringContainerObject<R>(container: MonitoringContainerSpec, refs: MonitoringReferences<R>): MonitoringContainerObject<R> {
  return {
    name: container.name,
    image: refs.image,
    ...(container.command ? { command: container.command } : {}),
    envs: [
      ...Object.entries(container.env).map(([key, value]) => `${key}=${value}`),
      ...Object.entries(container.secretEnv).map(([key, secret]) => refs.secretEnv(key, secret)),
    ],
    volumes: container.mounts.map((mount) => ({ volumeName: refs.volume(mount.volume), containerPath: mount.containerPath })),
    mounts: container.binds.map((bind) => ({ type: 'bind' as const, source: bind.hostPath, target: bind.containerPath, readOnly: true as const })),
    networksAdvanced: [{ name: refs.network, aliases: [] }],
    ports: container.ports.map((port) => ({ internal: port.containerPort, external: port.hostPort, ip: port.hostIp, protocol: 'tcp' as const })),
    restart: container.restart,
    uploads: container.uploads.map((upload) => ({ file: upload.path, content: upload.content })),
    labels: Object.entries(container.labels).map(([label, value]) => ({ label, value })),
    stopTimeout: container.stopTimeoutSeconds,
  };
}
