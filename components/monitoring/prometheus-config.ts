import { posix } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { APP_SCRAPE_JOBS, EXPORTER_JOBS, type AppScrapeService } from './app-metrics.js';

/** Files under Prometheus' config folder, relative to it. */
export const PROMETHEUS_FILES = {
  config: 'prometheus.yml',
  rules: 'rules/trapperkeeper.yml',
  /** One file_sd file per app service, rewritten as slots come and go. */
  appTargets: (service: AppScrapeService) => `targets/${APP_SCRAPE_JOBS[service]}.json`,
} as const;

/**
 * One app instance to scrape. `role` tells the live slot from the one a release is starting
 * (`candidate`): a candidate that is not up yet is no outage, so InstanceDown leaves it out.
 */
export interface AppScrapeTarget {
  service: AppScrapeService;
  /** host:port of its metrics endpoint: sensor-api's http_port, web-ui's metrics_port. */
  address: string;
  slot?: string;
  role?: 'live' | 'candidate';
}

export interface PrometheusConfigInput {
  /** Every alert and federated series carries it (external label `stack`). */
  stack: string;
  scrapeInterval: string;
  evaluationInterval: string;
  /** Where the files of `PROMETHEUS_FILES` are, as Prometheus sees them (`/etc/prometheus` in a container). */
  configDir: string;
  /** host:port of each Alertmanager. */
  alertmanagers: readonly string[];
  /** host:port of each exporter; a kind with none gets no scrape job. */
  exporters: { node: readonly string[]; postgres: readonly string[]; cadvisor: readonly string[] };
}

/**
 * prometheus.yml. The app's instances come from file_sd files (renderAppScrapeTargets): a
 * release rewrites them as it starts and parks slots, and Prometheus picks the change up without
 * a reload. The exporters are fixed for the stack's life, so they are listed here.
 */
export function renderPrometheusConfig(input: PrometheusConfigInput): string {
  const at = (file: string) => posix.join(input.configDir, file);
  const staticJob = (job: string, targets: readonly string[]) =>
    targets.length === 0 ? [] : [{ job_name: job, static_configs: [{ targets: [...targets] }] }];
  const config = {
    global: {
      scrape_interval: input.scrapeInterval,
      evaluation_interval: input.evaluationInterval,
      external_labels: { stack: input.stack },
    },
    rule_files: [at(PROMETHEUS_FILES.rules)],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [...input.alertmanagers] }] }] },
    scrape_configs: [
      ...(Object.keys(APP_SCRAPE_JOBS) as AppScrapeService[]).map((service) => ({
        job_name: APP_SCRAPE_JOBS[service],
        metrics_path: '/metrics',
        file_sd_configs: [{ files: [at(PROMETHEUS_FILES.appTargets(service))] }],
      })),
      ...staticJob(EXPORTER_JOBS.node, input.exporters.node),
      ...staticJob(EXPORTER_JOBS.postgres, input.exporters.postgres),
      ...staticJob(EXPORTER_JOBS.cadvisor, input.exporters.cadvisor),
    ],
  };
  return toYaml(config, { lineWidth: 0 });
}

/**
 * The file_sd files of the app's jobs, by path under the config folder: one per service, always
 * written (an empty list is a service with no instance right now).
 */
export function renderAppScrapeTargets(targets: readonly AppScrapeTarget[]): Record<string, string> {
  const files: Record<string, string> = {};
  for (const service of Object.keys(APP_SCRAPE_JOBS) as AppScrapeService[]) {
    const groups = new Map<string, { targets: string[]; labels: Record<string, string> }>();
    for (const target of targets.filter((t) => t.service === service)) {
      const labels: Record<string, string> = {
        ...(target.slot ? { slot: target.slot } : {}),
        ...(target.role ? { role: target.role } : {}),
      };
      const key = JSON.stringify(labels);
      const group = groups.get(key) ?? { targets: [], labels };
      group.targets.push(target.address);
      groups.set(key, group);
    }
    files[PROMETHEUS_FILES.appTargets(service)] = `${JSON.stringify([...groups.values()], null, 2)}\n`;
  }
  return files;
}

export interface PrometheusArgsInput {
  configDir: string;
  /** The TSDB folder (a volume, so samples survive a redeploy). */
  dataDir: string;
  retention: string;
  listenAddress: string;
}

/** Prometheus' command line. Lifecycle API on: the toolkit reloads a changed config with POST /-/reload. */
export function prometheusArgs(input: PrometheusArgsInput): string[] {
  return [
    `--config.file=${posix.join(input.configDir, PROMETHEUS_FILES.config)}`,
    `--storage.tsdb.path=${input.dataDir}`,
    `--storage.tsdb.retention.time=${input.retention}`,
    `--web.listen-address=${input.listenAddress}`,
    '--web.enable-lifecycle',
  ];
}
