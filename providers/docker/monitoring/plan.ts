import { monitoringFiles, MONITORING_PATHS, MONITORING_PORTS, type MonitoringAddresses } from '../../../components/monitoring/monitoring-files.js';
import type { MonitoringSection } from '../../../components/monitoring/settings.js';
import { posix } from 'node:path';
import { containerName, planMonitoringRelease, type DockerMonitoringRelease, type MonitoringService } from './release-target.js';
import { INFRA_LABELS, POSTGRES_NETWORK_ALIAS, POSTGRES_PORT, type DockerInfrastructureSpec, type VolumeSpec } from '../infrastructure-spec.js';

/**
 * The monitoring of a Docker stack (monitoring.enabled) as plain data, as infrastructure-spec.ts
 * is for the stable infrastructure: Prometheus, Alertmanager, Grafana, node-exporter and
 * postgres_exporter on the stack's private network, their files from monitoringFiles(), and the
 * volumes that keep their data. objects.ts turns it into the Docker objects' fields; the Pulumi
 * component (component.ts) declares those, and the tests stand the same fields up with the
 * docker CLI (test/support/docker-monitoring.ts).
 */
export { MONITORING_SERVICES, MONITORED_APP_ENV, planMonitoringRelease, type DockerMonitoringRelease, type MonitoringService } from './release-target.js';

export const MONITORING_VOLUME_KEYS = ['prometheusData', 'prometheusTargets', 'alertmanagerData', 'grafanaData', 'deployMetrics'] as const;
export type MonitoringVolumeKey = (typeof MONITORING_VOLUME_KEYS)[number];

/** Secret values the containers get through their environment only. */
export type MonitoringSecret = 'grafanaAdminPassword' | 'postgresExporterDsn';

export interface MonitoringContainerSpec {
  name: string;
  image: string;
  /** The image's entrypoint takes these (each prom/* image's ENTRYPOINT is its binary). */
  command?: string[];
  env: Record<string, string>;
  secretEnv: Record<string, MonitoringSecret>;
  mounts: { volume: MonitoringVolumeKey; containerPath: string }[];
  /** Host folders, always read-only (node-exporter's view of the host). */
  binds: { hostPath: string; containerPath: string }[];
  network: string;
  /** Only Grafana is published. */
  ports: { hostIp: string; hostPort: number; containerPort: number }[];
  restart: 'unless-stopped';
  /** Files written into the container before it starts. */
  uploads: { path: string; content: string }[];
  labels: Record<string, string>;
  stopTimeoutSeconds: number;
}

export interface DockerMonitoringSpec {
  stack: string;
  network: string;
  volumes: Record<MonitoringVolumeKey, VolumeSpec>;
  containers: Record<MonitoringService, MonitoringContainerSpec>;
  release: DockerMonitoringRelease;
  /** Where people open Grafana (on the Docker host). */
  grafanaUrl: string;
}

export interface MonitoringPlanInput {
  settings: MonitoringSection;
  ephemeral: boolean;
}

/** Pure: the monitoring containers and volumes of a stack, beside its infrastructure. */
export function planDockerMonitoring(infra: DockerInfrastructureSpec, input: MonitoringPlanInput): DockerMonitoringSpec {
  const { prefix, stack } = infra;
  const { settings } = input;
  const network = infra.network.name;
  const labels = (role: string) => ({ [INFRA_LABELS.stack]: stack, [INFRA_LABELS.role]: role });
  const volume = (suffix: string): VolumeSpec => ({ name: `${prefix}-${suffix}`, retainOnDestroy: !input.ephemeral, labels: labels(suffix) });
  const name = (service: MonitoringService) => containerName(prefix, service);
  const release = planMonitoringRelease(prefix);

  const files = monitoringFiles({
    stack,
    settings,
    addresses: {
      prometheus: `${name('prometheus')}:${MONITORING_PORTS.prometheus}`,
      alertmanager: `${name('alertmanager')}:${MONITORING_PORTS.alertmanager}`,
      nodeExporter: `${name('nodeExporter')}:${MONITORING_PORTS.nodeExporter}`,
      postgresExporter: `${name('postgresExporter')}:${MONITORING_PORTS.postgresExporter}`,
    } satisfies MonitoringAddresses,
    // The app's instances are written by each release into the targets volume, never here: a
    // new Prometheus container must not forget which slot is live.
    appTargets: [],
  });
  const uploadsOf = (dir: string, entries: Record<string, string>, skip: (path: string) => boolean = () => false) =>
    Object.entries(entries)
      .filter(([path]) => !skip(path))
      .map(([path, content]) => ({ path: posix.join(dir, path), content }));

  const base = (service: MonitoringService, image: string): MonitoringContainerSpec => ({
    name: name(service),
    image,
    env: {},
    secretEnv: {},
    mounts: [],
    binds: [],
    network,
    ports: [],
    restart: 'unless-stopped',
    uploads: [],
    labels: labels(containerName('', service).slice(1)),
    stopTimeoutSeconds: 30,
  });

  const containers: Record<MonitoringService, MonitoringContainerSpec> = {
    prometheus: {
      ...base('prometheus', settings.images.prometheus),
      command: files.prometheus.args,
      mounts: [
        { volume: 'prometheusData', containerPath: files.prometheus.dataDir },
        { volume: 'prometheusTargets', containerPath: release.targetsDir },
      ],
      uploads: uploadsOf(files.prometheus.dir, files.prometheus.files, (path) => posix.join(files.prometheus.dir, path).startsWith(`${release.targetsDir}/`)),
    },
    alertmanager: {
      ...base('alertmanager', settings.images.alertmanager),
      command: files.alertmanager.args,
      mounts: [{ volume: 'alertmanagerData', containerPath: files.alertmanager.dataDir }],
      uploads: uploadsOf(files.alertmanager.dir, files.alertmanager.files),
    },
    grafana: {
      ...base('grafana', settings.images.grafana),
      env: files.grafana.env,
      secretEnv: Object.fromEntries(files.grafana.secretEnv.map((variable) => [variable, 'grafanaAdminPassword' as const])),
      mounts: [{ volume: 'grafanaData', containerPath: files.grafana.dataDir }],
      ports: [{ hostIp: settings.grafana.bindAddress, hostPort: settings.grafana.port, containerPort: files.grafana.provisioning.port }],
      uploads: [
        ...uploadsOf(files.grafana.provisioning.dir, files.grafana.provisioning.files),
        ...uploadsOf(files.grafana.dashboardsDir, files.grafana.dashboards),
      ],
    },
    nodeExporter: {
      ...base('nodeExporter', settings.images.nodeExporter),
      command: files.nodeExporter.args,
      mounts: [{ volume: 'deployMetrics', containerPath: files.nodeExporter.textfileDir }],
      binds: [{ hostPath: '/', containerPath: files.nodeExporter.rootfs }],
    },
    postgresExporter: {
      ...base('postgresExporter', settings.images.postgresExporter),
      command: files.postgresExporter.args,
      secretEnv: Object.fromEntries(files.postgresExporter.secretEnv.map((variable) => [variable, 'postgresExporterDsn' as const])),
    },
  };

  const host = settings.grafana.bindAddress === '0.0.0.0' || settings.grafana.bindAddress === '::' ? '127.0.0.1' : settings.grafana.bindAddress;
  return {
    stack,
    network,
    volumes: {
      prometheusData: volume('prometheus-data'),
      prometheusTargets: volume('prometheus-targets'),
      alertmanagerData: volume('alertmanager-data'),
      grafanaData: volume('grafana-data'),
      deployMetrics: volume('deploy-metrics'),
    },
    containers,
    release,
    grafanaUrl: `http://${host.includes(':') ? `[${host}]` : host}:${settings.grafana.port}`,
  };
}

/**
 * postgres_exporter's DATA_SOURCE_NAME: the app's database by its network alias, no TLS inside the
 * stack network. Holds the password: wrap it as a secret.
 */
export function postgresExporterDsn(infra: Pick<DockerInfrastructureSpec, 'postgres'>, password: string): string {
  const user = infra.postgres.env.POSTGRES_USER ?? '';
  const database = infra.postgres.env.POSTGRES_DB ?? '';
  return `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${POSTGRES_NETWORK_ALIAS}:${POSTGRES_PORT}/${encodeURIComponent(database)}?sslmode=disable`;
}
