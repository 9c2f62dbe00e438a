import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { APP_METRICS } from '../app-metrics.js';
import { DEPLOY_METRICS } from '../deploy-metrics.js';
import { dashboardProvisioningSchema, dashboardSchema, datasourceProvisioningSchema, type Dashboard, type Panel } from './dashboard-schema.js';
import {
  GRAFANA_DATASOURCE_UID,
  GRAFANA_PATHS,
  GRAFANA_PROVISIONING_FILES,
  dashboardFiles,
  grafanaEnv,
  renderGrafanaProvisioning,
} from './provisioning.js';

const files = dashboardFiles();
const dashboards = Object.fromEntries(Object.entries(files).map(([name, text]) => [name, JSON.parse(text) as unknown]));

function parsed(name: string): Dashboard {
  return dashboardSchema.parse(dashboards[name]);
}

function dataPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.filter((panel) => panel.type !== 'row' && panel.type !== 'text');
}

function overlaps(a: Panel['gridPos'], b: Panel['gridPos']): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

describe('Grafana provisioning and dashboards, against Grafana\'s documented formats', () => {
  test('the four dashboards are there', () => {
    assert.deepEqual(Object.keys(files), ['application-health.json', 'database.json', 'deployments.json', 'infrastructure.json']);
  });

  for (const name of Object.keys(files)) {
    test(`${name}: the dashboard JSON model Grafana loads (required fields, core panel types, grid within 24 columns)`, () => {
      const result = dashboardSchema.safeParse(dashboards[name]);
      assert.ok(result.success, result.success ? '' : JSON.stringify(result.error.issues, null, 2));
    });

    test(`${name}: panel ids are unique, panels do not overlap, every query uses the provisioned datasource`, () => {
      const dashboard = parsed(name);
      const ids = dashboard.panels.map((panel) => panel.id);
      assert.equal(new Set(ids).size, ids.length);
      dashboard.panels.forEach((a, i) =>
        dashboard.panels.slice(i + 1).forEach((b) => assert.ok(!overlaps(a.gridPos, b.gridPos), `"${a.title}" overlaps "${b.title}"`)));
      for (const panel of dataPanels(dashboard)) {
        assert.equal(panel.datasource?.uid, GRAFANA_DATASOURCE_UID, panel.title);
        for (const target of panel.targets ?? []) assert.equal(target.datasource?.uid ?? GRAFANA_DATASOURCE_UID, GRAFANA_DATASOURCE_UID, panel.title);
        const refIds = (panel.targets ?? []).map((target) => target.refId);
        assert.equal(new Set(refIds).size, refIds.length, `${panel.title}: duplicate refId`);
      }
    });

    test(`${name}: releases, failed releases and rollbacks are annotations from the pipeline's metrics`, () => {
      const annotations = parsed(name).annotations.list.filter((a) => a.datasource.uid === GRAFANA_DATASOURCE_UID);
      const byName = new Map(annotations.map((a) => [a.name, a]));
      assert.match(byName.get('Releases')?.expr ?? '', new RegExp(DEPLOY_METRICS.lastSuccess.name));
      assert.match(byName.get('Failed releases')?.expr ?? '', new RegExp(DEPLOY_METRICS.lastFailure.name));
      assert.match(byName.get('Rollbacks')?.expr ?? '', new RegExp(DEPLOY_METRICS.lastRollback.name));
      for (const annotation of annotations) assert.equal(annotation.enable, true, annotation.name);
    });
  }

  test('dashboard uids are unique and stable (links and bookmarks use them)', () => {
    const uids = Object.keys(files).map((name) => parsed(name).uid);
    assert.deepEqual(uids, ['tk-application-health', 'tk-database', 'tk-deployments', 'tk-infrastructure']);
  });

  test('each dashboard shows what the issue asks of it', () => {
    const queries = (name: string) => dataPanels(parsed(name)).flatMap((panel) => (panel.targets ?? []).map((t) => t.expr)).join('\n');
    const health = queries('application-health.json');
    for (const metric of [APP_METRICS.httpRequests, APP_METRICS.grpcRequests, `${APP_METRICS.httpDuration}_bucket`, APP_METRICS.eventsAccepted, APP_METRICS.ruleSyncs, APP_METRICS.ruleSyncEtagHits]) {
      assert.ok(health.includes(metric), `application health lacks ${metric}`);
    }
    for (const quantile of ['0.5', '0.95', '0.99']) assert.ok(health.includes(`histogram_quantile(${quantile},`), `no p${Number(quantile) * 100}`);
    const deployments = queries('deployments.json');
    for (const metric of [DEPLOY_METRICS.releaseInfo, DEPLOY_METRICS.promotions, DEPLOY_METRICS.rollbacks, DEPLOY_METRICS.failures, DEPLOY_METRICS.phaseDuration]) {
      assert.ok(deployments.includes(metric.name), `deployments lacks ${metric.name}`);
    }
    const infrastructure = queries('infrastructure.json');
    for (const metric of ['node_cpu_seconds_total', 'node_memory_MemAvailable_bytes', 'node_filesystem_avail_bytes', 'node_network_receive_bytes_total', 'container_cpu_usage_seconds_total', 'container_memory_working_set_bytes', 'container_fs_usage_bytes', 'container_network_receive_bytes_total']) {
      assert.ok(infrastructure.includes(metric), `infrastructure lacks ${metric}`);
    }
    const database = queries('database.json');
    for (const metric of [APP_METRICS.dbPoolConnections, 'pg_up', 'pg_stat_activity_count', 'pg_stat_activity_max_tx_duration', 'pg_stat_database_xact_commit']) {
      assert.ok(database.includes(metric), `database lacks ${metric}`);
    }
  });

  test('the schema refuses what Grafana would not load (it can fail)', () => {
    const dashboard = structuredClone(dashboards['database.json']) as { id: unknown; panels: Record<string, unknown>[] };
    const panel = dashboard.panels[1]!;
    assert.ok(dashboardSchema.safeParse(dashboard).success);
    for (const broken of [
      { ...dashboard, id: 7 },
      { ...dashboard, panels: [{ ...panel, gridPos: { h: 4, w: 12, x: 18, y: 0 } }] },
      { ...dashboard, panels: [{ ...panel, targets: [] }] },
      { ...dashboard, panels: [{ ...panel, type: 'grafana-clock-panel' }] },
    ]) {
      assert.equal(dashboardSchema.safeParse(broken).success, false);
    }
  });

  test('provisioning: a Prometheus datasource with the uid the dashboards use, and a read-only file provider', () => {
    const rendered = renderGrafanaProvisioning({ prometheusUrl: 'http://tk-dev-prometheus:9090', scrapeInterval: '15s' });
    const datasource = datasourceProvisioningSchema.parse(parseYaml(rendered[GRAFANA_PROVISIONING_FILES.datasource]!));
    assert.deepEqual(
      datasource.datasources.map((d) => [d.type, d.uid, d.url, d.access, d.isDefault]),
      [['prometheus', GRAFANA_DATASOURCE_UID, 'http://tk-dev-prometheus:9090', 'proxy', true]],
    );
    const provider = dashboardProvisioningSchema.parse(parseYaml(rendered[GRAFANA_PROVISIONING_FILES.dashboards]!));
    assert.equal(provider.providers[0]?.options.path, GRAFANA_PATHS.dashboards);
    assert.equal(provider.providers[0]?.allowUiUpdates, false);
  });

  test('Grafana\'s environment turns anonymous access and sign-up off and holds no password', () => {
    const env = grafanaEnv();
    assert.equal(env.GF_AUTH_ANONYMOUS_ENABLED, 'false');
    assert.equal(env.GF_USERS_ALLOW_SIGN_UP, 'false');
    assert.equal(env.GF_SECURITY_ADMIN_PASSWORD, undefined);
    assert.equal(env.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH, `${GRAFANA_PATHS.dashboards}/application-health.json`);
  });
});
