import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';

/** The datasource every dashboard panel and annotation names (dashboards are provisioned, not imported). */
export const GRAFANA_DATASOURCE_UID = 'trapperkeeper-prometheus';

/** Grafana's own paths in its official image; the provisioning folder is GF_PATHS_PROVISIONING. */
export const GRAFANA_PATHS = {
  provisioning: '/etc/grafana/provisioning',
  dashboards: '/var/lib/trapperkeeper/dashboards',
} as const;

export const GRAFANA_PROVISIONING_FILES = {
  datasource: 'datasources/trapperkeeper.yaml',
  dashboards: 'dashboards/trapperkeeper.yaml',
} as const;

/** The folder the dashboards appear in. */
export const GRAFANA_FOLDER = 'TrapperKeeper';

const DASHBOARDS_DIR = fileURLToPath(new URL('./dashboards/', import.meta.url));

/** The dashboards in the repository (grafana/dashboards/*.json), by file name. */
export function dashboardFiles(): Record<string, string> {
  return Object.fromEntries(
    readdirSync(DASHBOARDS_DIR)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => [name, readFileSync(posix.join(DASHBOARDS_DIR, name), 'utf8')]),
  );
}

export interface GrafanaProvisioningInput {
  /** Where Grafana's server reaches Prometheus, e.g. http://tk-dev-prometheus:9090. */
  prometheusUrl: string;
  /** Prometheus' scrape interval: Grafana's smallest step ($__rate_interval builds on it). */
  scrapeInterval: string;
  /** Where the dashboard files are inside Grafana's container. @default GRAFANA_PATHS.dashboards */
  dashboardsDir?: string;
}

/**
 * Grafana's provisioning files, by path under its provisioning folder: the Prometheus
 * datasource and a file provider for the dashboards (read-only in the UI: the repository's JSON
 * is their source, a change there reaches Grafana on the next deploy).
 */
export function renderGrafanaProvisioning(input: GrafanaProvisioningInput): Record<string, string> {
  const datasource = {
    apiVersion: 1,
    datasources: [
      {
        name: 'Prometheus',
        type: 'prometheus',
        uid: GRAFANA_DATASOURCE_UID,
        access: 'proxy',
        url: input.prometheusUrl,
        isDefault: true,
        editable: false,
        jsonData: { timeInterval: input.scrapeInterval, httpMethod: 'POST' },
      },
    ],
  };
  const dashboards = {
    apiVersion: 1,
    providers: [
      {
        name: 'trapperkeeper',
        orgId: 1,
        folder: GRAFANA_FOLDER,
        type: 'file',
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 60,
        options: { path: input.dashboardsDir ?? GRAFANA_PATHS.dashboards, foldersFromFilesStructure: false },
      },
    ],
  };
  return {
    [GRAFANA_PROVISIONING_FILES.datasource]: toYaml(datasource, { lineWidth: 0 }),
    [GRAFANA_PROVISIONING_FILES.dashboards]: toYaml(dashboards, { lineWidth: 0 }),
  };
}

/** The environment variable that carries Grafana's admin password (a stack secret; never in a file). */
export const GRAFANA_ADMIN_PASSWORD_ENV = 'GF_SECURITY_ADMIN_PASSWORD';

/**
 * Grafana's non-secret environment: provisioning from the mounted folder, no anonymous access,
 * no sign-up, no calls home. The admin password goes in GRAFANA_ADMIN_PASSWORD_ENV.
 */
export function grafanaEnv(options: { dashboardsDir?: string } = {}): Record<string, string> {
  return {
    GF_PATHS_PROVISIONING: GRAFANA_PATHS.provisioning,
    GF_SECURITY_ADMIN_USER: 'admin',
    GF_AUTH_ANONYMOUS_ENABLED: 'false',
    GF_USERS_ALLOW_SIGN_UP: 'false',
    GF_ANALYTICS_REPORTING_ENABLED: 'false',
    GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
    GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: posix.join(options.dashboardsDir ?? GRAFANA_PATHS.dashboards, 'application-health.json'),
  };
}
