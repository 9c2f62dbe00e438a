import { posix } from 'node:path';
import { DEFAULT_SENSOR_API_HTTP_PORT, DEFAULT_WEB_UI_METRICS_PORT } from '../../../app/src/config/defaults.js';
import { MONITORING_PATHS } from '../../../components/monitoring/monitoring-files.js';
import { PROMETHEUS_FILES } from '../../../components/monitoring/prometheus-config.js';

/**
 * The release side of a Docker stack's monitoring: the names the release plan carries (spec.ts
 * imports it, so it imports nothing of the Docker target).
 */
export const MONITORING_SERVICES = ['prometheus', 'alertmanager', 'grafana', 'nodeExporter', 'postgresExporter'] as const;
export type MonitoringService = (typeof MONITORING_SERVICES)[number];

/**
 * What the release process needs to tell monitoring what it does (ports.ts MonitoringPort): it
 * rewrites Prometheus' file_sd lists of the app's instances and node-exporter's textfile.
 */
export interface DockerMonitoringRelease {
  prometheusContainer: string;
  /** Folder of the file_sd lists in the Prometheus container (a volume: a new container keeps them). */
  targetsDir: string;
  nodeExporterContainer: string;
  /** node-exporter's textfile collector folder (a volume). */
  textfileDir: string;
  /** Where each app service serves /metrics inside its container. */
  metricsPorts: { 'sensor-api': number; 'web-ui': number };
}

/** Prometheus' folder of file_sd lists (PROMETHEUS_FILES.appTargets are under it). */
const PROMETHEUS_TARGETS_DIR = posix.join(MONITORING_PATHS.prometheusConfig, posix.dirname(PROMETHEUS_FILES.appTargets('sensor-api')));

export function containerName(prefix: string, service: MonitoringService): string {
  const suffix: Record<MonitoringService, string> = {
    prometheus: 'prometheus',
    alertmanager: 'alertmanager',
    grafana: 'grafana',
    nodeExporter: 'node-exporter',
    postgresExporter: 'postgres-exporter',
  };
  return `${prefix}-${suffix[service]}`;
}

/** The release side only: what the plan carries (names and folders, no config). */
export function planMonitoringRelease(prefix: string): DockerMonitoringRelease {
  return {
    prometheusContainer: containerName(prefix, 'prometheus'),
    targetsDir: PROMETHEUS_TARGETS_DIR,
    nodeExporterContainer: containerName(prefix, 'nodeExporter'),
    textfileDir: MONITORING_PATHS.deployMetrics,
    metricsPorts: { 'sensor-api': DEFAULT_SENSOR_API_HTTP_PORT, 'web-ui': DEFAULT_WEB_UI_METRICS_PORT },
  };
}

/** The app's variables when monitoring runs: web-ui serves /metrics to the network, not only its loopback. */
export const MONITORED_APP_ENV = { TK_WEB_UI_METRICS_HOST: '0.0.0.0' } as const;

