import { renderAlertRules, type AlertTiming } from './alert-rules.js';
import { ALERTMANAGER_FILES, alertmanagerArgs, renderAlertmanagerConfig } from './alertmanager-config.js';
import {
  GRAFANA_ADMIN_PASSWORD_ENV,
  GRAFANA_PATHS,
  dashboardFiles,
  grafanaEnv,
  renderGrafanaProvisioning,
} from './grafana/provisioning.js';
import { PROMETHEUS_FILES, prometheusArgs, renderAppScrapeTargets, renderPrometheusConfig, type AppScrapeTarget } from './prometheus-config.js';
import type { MonitoringSection } from './settings.js';

export { DEFAULT_MONITORING_IMAGES } from './images.js';

/** The port each service listens on inside its container (each image's default). */
export const MONITORING_PORTS = {
  prometheus: 9090,
  alertmanager: 9093,
  grafana: 3000,
  nodeExporter: 9100,
  postgresExporter: 9187,
  cadvisor: 8080,
} as const;

/** Folders inside the containers: config (read-only mounts) and data (volumes). */
export const MONITORING_PATHS = {
  prometheusConfig: '/etc/prometheus',
  prometheusData: '/prometheus',
  alertmanagerConfig: '/etc/alertmanager',
  alertmanagerData: '/alertmanager',
  grafanaData: '/var/lib/grafana',
  /** The host's root filesystem, read-only, for node-exporter's filesystem and memory numbers. */
  nodeExporterRootfs: '/host',
  /** node-exporter's textfile collector folder: the release pipeline writes DEPLOY_METRICS_FILE here. */
  deployMetrics: '/var/lib/trapperkeeper/deploy-metrics',
} as const;

/** A service's files, by path relative to `dir`, with its command line and environment. */
export interface ServiceFiles {
  /** Where `files` go inside the container. */
  dir: string;
  files: Record<string, string>;
  args: string[];
  port: number;
}

export interface MonitoringFiles {
  prometheus: ServiceFiles & { dataDir: string };
  alertmanager: ServiceFiles & { dataDir: string };
  grafana: {
    provisioning: ServiceFiles;
    /** The dashboard JSON files, by name, for `dashboardsDir`. */
    dashboards: Record<string, string>;
    dashboardsDir: string;
    dataDir: string;
    env: Record<string, string>;
    /** Environment variables whose values are secrets (the admin password). */
    secretEnv: string[];
  };
  nodeExporter: { args: string[]; port: number; rootfs: string; textfileDir: string };
  /** DATA_SOURCE_NAME (a postgresql:// URL with the password) is a secret. */
  postgresExporter: { args: string[]; port: number; secretEnv: string[] };
  cadvisor: { port: number };
}

/** Where each service is reached (host:port) from the others: names on the stack's network. */
export interface MonitoringAddresses {
  prometheus: string;
  alertmanager: string;
  nodeExporter: string;
  postgresExporter: string;
  /** Unset: no cAdvisor, so the per-container panels stay empty (host and app panels still work). */
  cadvisor?: string;
}

export type MonitoringPaths = { -readonly [K in keyof typeof MONITORING_PATHS]: string };

/** What each process listens on. @default every interface, on its image's port (MONITORING_PORTS) */
export interface MonitoringListen {
  prometheus: string;
  alertmanager: string;
  nodeExporter: string;
  postgresExporter: string;
}

export interface MonitoringFilesInput {
  stack: string;
  settings: MonitoringSection;
  addresses: MonitoringAddresses;
  /** The app instances to scrape now: the live slot, and the candidate during a release. */
  appTargets: readonly AppScrapeTarget[];
  /** Only tests shorten these. @default PRODUCTION_ALERT_TIMING */
  timing?: AlertTiming;
  /** Folders of the processes; a target running them outside containers moves them. @default MONITORING_PATHS */
  paths?: Partial<MonitoringPaths>;
  listen?: Partial<MonitoringListen>;
}

/**
 * Everything the monitoring services of a stack need, target-independent: each service's files
 * with the folder they go in, its arguments, environment and port. A target mounts or copies the
 * files and starts the processes; it never writes these files itself.
 */
export function monitoringFiles(input: MonitoringFilesInput): MonitoringFiles {
  const { settings, addresses } = input;
  const p: MonitoringPaths = { ...MONITORING_PATHS, ...input.paths };
  const listen: MonitoringListen = {
    prometheus: `0.0.0.0:${MONITORING_PORTS.prometheus}`,
    alertmanager: `0.0.0.0:${MONITORING_PORTS.alertmanager}`,
    nodeExporter: `0.0.0.0:${MONITORING_PORTS.nodeExporter}`,
    postgresExporter: `0.0.0.0:${MONITORING_PORTS.postgresExporter}`,
    ...input.listen,
  };
  return {
    prometheus: {
      dir: p.prometheusConfig,
      dataDir: p.prometheusData,
      port: MONITORING_PORTS.prometheus,
      args: prometheusArgs({ configDir: p.prometheusConfig, dataDir: p.prometheusData, retention: settings.retention, listenAddress: listen.prometheus }),
      files: {
        [PROMETHEUS_FILES.config]: renderPrometheusConfig({
          stack: input.stack,
          scrapeInterval: settings.scrapeInterval,
          evaluationInterval: settings.evaluationInterval,
          configDir: p.prometheusConfig,
          alertmanagers: [addresses.alertmanager],
          exporters: {
            node: [addresses.nodeExporter],
            postgres: [addresses.postgresExporter],
            cadvisor: addresses.cadvisor ? [addresses.cadvisor] : [],
          },
        }),
        [PROMETHEUS_FILES.rules]: renderAlertRules({ thresholds: settings.alerts, ...(input.timing ? { timing: input.timing } : {}) }),
        ...renderAppScrapeTargets(input.appTargets),
      },
    },
    alertmanager: {
      dir: p.alertmanagerConfig,
      dataDir: p.alertmanagerData,
      port: MONITORING_PORTS.alertmanager,
      args: alertmanagerArgs({ configDir: p.alertmanagerConfig, dataDir: p.alertmanagerData, listenAddress: listen.alertmanager }),
      files: { [ALERTMANAGER_FILES.config]: renderAlertmanagerConfig(settings.notify) },
    },
    grafana: {
      provisioning: {
        dir: GRAFANA_PATHS.provisioning,
        port: MONITORING_PORTS.grafana,
        args: [],
        files: renderGrafanaProvisioning({ prometheusUrl: `http://${addresses.prometheus}`, scrapeInterval: settings.scrapeInterval }),
      },
      dashboards: dashboardFiles(),
      dashboardsDir: GRAFANA_PATHS.dashboards,
      dataDir: p.grafanaData,
      env: grafanaEnv(),
      secretEnv: [GRAFANA_ADMIN_PASSWORD_ENV],
    },
    nodeExporter: {
      port: MONITORING_PORTS.nodeExporter,
      rootfs: p.nodeExporterRootfs,
      textfileDir: p.deployMetrics,
      args: nodeExporterArgs({ rootfs: p.nodeExporterRootfs, textfileDir: p.deployMetrics, listenAddress: listen.nodeExporter }),
    },
    postgresExporter: {
      port: MONITORING_PORTS.postgresExporter,
      args: postgresExporterArgs({ listenAddress: listen.postgresExporter }),
      secretEnv: ['DATA_SOURCE_NAME'],
    },
    cadvisor: { port: MONITORING_PORTS.cadvisor },
  };
}

/**
 * node-exporter's command line: the host's filesystems through `rootfs`, the release pipeline's
 * metrics from `textfileDir` (DEPLOY_METRICS_FILE), no systemd collector (no D-Bus in a container).
 */
export function nodeExporterArgs(input: { rootfs: string; textfileDir: string; listenAddress: string }): string[] {
  return [
    `--path.rootfs=${input.rootfs}`,
    `--collector.textfile.directory=${input.textfileDir}`,
    '--no-collector.systemd',
    `--web.listen-address=${input.listenAddress}`,
  ];
}

/** postgres_exporter's command line; it connects with DATA_SOURCE_NAME from its environment. */
export function postgresExporterArgs(input: { listenAddress: string }): string[] {
  return [`--web.listen-address=${input.listenAddress}`];
}
