import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../support/free-port.js';
import {
  ALERTS,
  DEPLOY_METRICS_FILE,
  PRODUCTION_ALERT_TIMING,
  alertDefinitions,
  initialDeployMetrics,
  monitoringFiles,
  monitoringSectionSchema,
  recordReleaseFailed,
  recordReleaseLive,
  renderDeployMetrics,
  type AlertTiming,
  type DeployMetricsState,
  type MonitoringFiles,
} from '../../components/monitoring/index.js';
import { dashboardSchema } from '../../components/monitoring/grafana/dashboard-schema.js';
import { FileTree, MONITORING_TOOLS, runTool } from '../../components/monitoring/testing.js';
import { dashboardFiles } from '../../components/monitoring/grafana/provisioning.js';
import {
  ManagedProcess,
  POSTGRES_ADMIN_URL,
  PrometheusApi,
  Sensor,
  TestDatabase,
  TRAPPERKEEPER_BIN,
  WebhookReceiver,
  type PromSample,
} from './harness.js';

/**
 * The monitoring configuration doing its job against real things: the built TrapperKeeper on
 * PostgreSQL, Debian's Prometheus scraping it with the rendered config, node-exporter (with the
 * release pipeline's textfile) and postgres_exporter, and Alertmanager delivering to webhook
 * and ntfy receivers on 127.0.0.1. The only test setting is time: 1 s scrapes and evaluations,
 * a 20 s rate window and a 3 s `for` on the error-rate alert, so it fires in seconds.
 */

const STACK = 'monitoring-e2e';
const TIMING: AlertTiming = { ...PRODUCTION_ALERT_TIMING, rateWindow: '20s', errorRateFor: '3s' };
const BUILD = JSON.parse(readFileSync(new URL('../../app/dist/build-info.json', import.meta.url), 'utf8')) as { version: string; commit: string };
const R1 = { release: '0.1.0-aaaaaaaa-20261201T100000Z-b1', version: '0.1.0', commit: 'aaaaaaaa', slot: 'blue' };
const R2 = '0.2.0-bbbbbbbb-20261202T100000Z-b1';

/** Grafana's built-in variables, as Grafana fills them in before it sends a query. */
function withGrafanaVariables(expr: string, range: string): string {
  return expr.replaceAll('$__rate_interval', '10s').replaceAll('$__interval', '1s').replaceAll('$__range', range);
}

interface Query {
  where: string;
  expr: string;
}

function dashboardQueries(): Query[] {
  return Object.entries(dashboardFiles()).flatMap(([file, text]) => {
    const dashboard = dashboardSchema.parse(JSON.parse(text));
    const panels = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: `${file} "${panel.title}" ${target.refId}`, expr: target.expr })));
    const annotations = dashboard.annotations.list.flatMap((a) => (a.expr ? [{ where: `${file} annotation "${a.name}"`, expr: a.expr }] : []));
    return [...panels, ...annotations];
  });
}

/** cAdvisor is not in Debian: its panels are only checked to be valid PromQL. */
const needsCadvisor = (expr: string) => expr.includes('job="cadvisor"');

describe('monitoring end to end: TrapperKeeper, Prometheus, exporters, Alertmanager, receivers', () => {
  const dirs = new FileTree();
  const receiver = new WebhookReceiver();
  const processes: ManagedProcess[] = [];
  const started = new Date();
  let database: TestDatabase | undefined;
  let files: MonitoringFiles;
  let prometheus: PrometheusApi;
  let sensor: Sensor | undefined;
  let deployState: DeployMetricsState = initialDeployMetrics(STACK);
  const ports = { grpc: 0, sensorHttp: 0, web: 0, webMetrics: 0, prometheus: 0, alertmanager: 0, node: 0, postgres: 0 };
  const appEnv: NodeJS.ProcessEnv = {};

  const logs = () => processes.map((p) => p.log()).join('\n');
  const start = (name: string, command: string, args: readonly string[], env?: NodeJS.ProcessEnv) => {
    const managed = ManagedProcess.start(name, command, args, { ...(env ? { env } : {}), cwd: dirs.dir });
    processes.push(managed);
    return managed;
  };

  /** Replaces the textfile as the release pipeline would: write aside, then rename. */
  const writeDeployMetrics = (state: DeployMetricsState) => {
    deployState = state;
    const dir = files.nodeExporter.textfileDir;
    writeFileSync(join(dir, `.${DEPLOY_METRICS_FILE}.tmp`), renderDeployMetrics(state));
    renameSync(join(dir, `.${DEPLOY_METRICS_FILE}.tmp`), join(dir, DEPLOY_METRICS_FILE));
  };

  const trapperkeeper = (args: string[]) => runTool(process.execPath, [TRAPPERKEEPER_BIN, ...args], { env: appEnv, cwd: dirs.dir });

  before(async () => {
    for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();
    await receiver.start();
    database = await TestDatabase.create();
    Object.assign(appEnv, {
      PATH: process.env.PATH,
      HOME: dirs.dir,
      TK_DATABASE_URL: database.url,
      TK_DATABASE_MAX_CONNECTIONS: '4',
      TK_DATABASE_MIN_IDLE: '0',
      TK_SENSOR_API_INGEST_WORKERS: '1',
      TK_HMAC_SECRET: `${randomBytes(16).toString('hex')}:${randomBytes(32).toString('base64')}`,
      TK_LOG_LEVEL: 'warn',
    });

    const settings = monitoringSectionSchema.parse({
      scrapeInterval: '1s',
      evaluationInterval: '1s',
      notify: { webhookUrl: receiver.url('/hook'), ntfyUrl: receiver.url('/tk-alerts'), groupWait: '1s', groupInterval: '1s', repeatInterval: '1h' },
    });
    const at = (port: number) => `127.0.0.1:${port}`;
    files = monitoringFiles({
      stack: STACK,
      settings,
      timing: TIMING,
      addresses: { prometheus: at(ports.prometheus), alertmanager: at(ports.alertmanager), nodeExporter: at(ports.node), postgresExporter: at(ports.postgres) },
      appTargets: [
        { service: 'sensor-api', address: at(ports.sensorHttp), slot: 'blue', role: 'live' },
        { service: 'web-ui', address: at(ports.webMetrics), slot: 'blue', role: 'live' },
      ],
      paths: {
        prometheusConfig: dirs.path('prometheus'),
        prometheusData: dirs.path('prometheus-data'),
        alertmanagerConfig: dirs.path('alertmanager'),
        alertmanagerData: dirs.path('alertmanager-data'),
        nodeExporterRootfs: '/',
        deployMetrics: dirs.path('textfile'),
      },
      listen: { prometheus: at(ports.prometheus), alertmanager: at(ports.alertmanager), nodeExporter: at(ports.node), postgresExporter: at(ports.postgres) },
    });
    dirs.write(files.prometheus.files, 'prometheus');
    dirs.write(files.alertmanager.files, 'alertmanager');
    mkdirSync(files.nodeExporter.textfileDir, { recursive: true });
    writeDeployMetrics(deployState);

    const migrated = await trapperkeeper(['migrate']);
    assert.equal(migrated.code, 0, migrated.stderr);
    const key = await trapperkeeper(['api-keys', 'create', '--name', 'monitoring-test']);
    assert.equal(key.code, 0, key.stderr);

    const services = [
      start('sensor-api', process.execPath, [TRAPPERKEEPER_BIN, 'sensor-api', '--host', '127.0.0.1', '--port', String(ports.grpc), '--http-port', String(ports.sensorHttp)], appEnv),
      start('web-ui', process.execPath, [TRAPPERKEEPER_BIN, 'web-ui', '--host', '127.0.0.1', '--port', String(ports.web), '--metrics-port', String(ports.webMetrics)], appEnv),
      start('node-exporter', MONITORING_TOOLS.nodeExporter, files.nodeExporter.args),
      start('postgres_exporter', MONITORING_TOOLS.postgresExporter, files.postgresExporter.args, { ...process.env, DATA_SOURCE_NAME: `${POSTGRES_ADMIN_URL}?sslmode=disable` }),
      start('alertmanager', MONITORING_TOOLS.alertmanager, files.alertmanager.args),
      start('prometheus', MONITORING_TOOLS.prometheus, files.prometheus.args),
    ];
    await Promise.all([
      services[0]!.waitHttp(`http://127.0.0.1:${ports.sensorHttp}/readyz`),
      services[1]!.waitHttp(`http://127.0.0.1:${ports.web}/readyz`),
      services[2]!.waitHttp(`http://127.0.0.1:${ports.node}/metrics`),
      services[3]!.waitHttp(`http://127.0.0.1:${ports.postgres}/metrics`),
      services[4]!.waitHttp(`http://127.0.0.1:${ports.alertmanager}/-/ready`),
      services[5]!.waitHttp(`http://127.0.0.1:${ports.prometheus}/-/ready`),
    ]);
    prometheus = new PrometheusApi(`http://127.0.0.1:${ports.prometheus}`);
    sensor = new Sensor(ports.grpc, key.stdout.trim());
  });

  after(async () => {
    sensor?.close();
    await Promise.all(processes.map((p) => p.stop()));
    await receiver.close();
    await database?.drop();
    dirs.remove();
  });

  test('Prometheus scrapes both services, node-exporter and postgres_exporter; the app\'s series carry their labels', async () => {
    writeDeployMetrics(recordReleaseLive(deployState, { ...R1, phasesMs: { lock: 20, 'start-slot': 2_000, 'health-gate': 3_500, switch: 40, verify: 900 }, at: new Date() }));
    for (let i = 0; i < 5; i += 1) assert.equal((await fetch(`http://127.0.0.1:${ports.web}/login`)).status, 200);
    for (let i = 0; i < 3; i += 1) assert.equal((await sensor!.reportEvents(3, `ok-${i}`)).code, 'OK');
    const first = await sensor!.syncRules();
    assert.equal(first.code, 'OK');
    assert.equal((await sensor!.syncRules(first.etag)).code, 'OK');

    const up = await prometheus.waitForQuery('up', (s) => s.length === 4 && s.every((x) => x.value?.[1] === '1'), 20_000, logs);
    const byJob = new Map(up.map((s) => [s.metric.job, s.metric]));
    assert.deepEqual([...byJob.keys()].sort(), ['node', 'postgres', 'trapperkeeper-sensor-api', 'trapperkeeper-web-ui']);
    assert.deepEqual(byJob.get('trapperkeeper-web-ui'), { __name__: 'up', job: 'trapperkeeper-web-ui', instance: `127.0.0.1:${ports.webMetrics}`, slot: 'blue', role: 'live' });

    const pages = await prometheus.waitForQuery('trapperkeeper_http_requests_total{route="/login"}', (s) => s.some((x) => Number(x.value?.[1]) >= 5), 15_000);
    assert.deepEqual(pages.map((s) => s.metric), [{
      __name__: 'trapperkeeper_http_requests_total', job: 'trapperkeeper-web-ui', instance: `127.0.0.1:${ports.webMetrics}`, slot: 'blue', role: 'live',
      service: 'web-ui', method: 'GET', route: '/login', code: '200',
    }]);
    const calls = await prometheus.waitForQuery('trapperkeeper_grpc_requests_total{code="OK"}', (s) => s.length === 2, 15_000);
    assert.deepEqual(calls.map((s) => [s.metric.job, s.metric.method]).sort(), [['trapperkeeper-sensor-api', 'ReportEvents'], ['trapperkeeper-sensor-api', 'SyncRules']]);
    await prometheus.waitForQuery('trapperkeeper_events_accepted_total{job="trapperkeeper-sensor-api"}', (s) => Number(s[0]?.value?.[1]) === 9, 15_000);
    await prometheus.waitForQuery('trapperkeeper_rule_sync_etag_hits_total{job="trapperkeeper-sensor-api"}', (s) => Number(s[0]?.value?.[1]) === 1, 15_000);
    const versions = await prometheus.query('app_version_info');
    assert.deepEqual(versions.map((s) => [s.metric.job, s.metric.version, s.metric.commit]).sort(), [
      ['trapperkeeper-sensor-api', BUILD.version, BUILD.commit],
      ['trapperkeeper-web-ui', BUILD.version, BUILD.commit],
    ]);
    assert.equal((await prometheus.query('pg_up'))[0]?.value?.[1], '1');
    const live = await prometheus.waitForQuery('trapperkeeper_deploy_release_info', (s) => s.length === 1, 10_000);
    assert.deepEqual(live[0]!.metric, { __name__: 'trapperkeeper_deploy_release_info', job: 'node', instance: `127.0.0.1:${ports.node}`, stack: STACK, ...R1 });
  });

  test('a release that failed verification fires the failed and rolled-back deployment alerts, delivered to the webhook', async () => {
    await sleep(2_000); // the live release is scraped before the next state replaces it
    writeDeployMetrics(recordReleaseFailed(deployState, { release: R2, phasesMs: { lock: 15, 'start-slot': 2_100, 'health-gate': 3_000, switch: 35, verify: 15_000 }, at: new Date(), restoredRelease: R1.release }));

    const failed = await receiver.waitForAlert('TrapperKeeperDeploymentFailed at the webhook', (a, r) => r.path === '/hook' && a.labels.alertname === ALERTS.deploymentFailed, 20_000, logs);
    const alert = failed.body.alerts.find((a) => a.labels.alertname === ALERTS.deploymentFailed)!;
    assert.deepEqual(alert.labels, { alertname: ALERTS.deploymentFailed, severity: 'warning', stack: STACK, release: R2, phase: 'verify' });
    assert.equal(alert.annotations.summary, `Release ${R2} of stack ${STACK} failed in phase verify`);
    assert.deepEqual(failed.body.groupLabels, { alertname: ALERTS.deploymentFailed, severity: 'warning' });

    const rolledBack = await receiver.waitForAlert('TrapperKeeperDeploymentRolledBack at the webhook', (a, r) => r.path === '/hook' && a.labels.alertname === ALERTS.deploymentRolledBack, 10_000);
    const rollback = rolledBack.body.alerts.find((a) => a.labels.alertname === ALERTS.deploymentRolledBack)!;
    assert.deepEqual([rollback.labels.from_release, rollback.labels.to_release, rollback.labels.reason], [R2, R1.release, 'verify_failed']);
  });

  test('a database outage makes the app answer 5xx; TrapperKeeperErrorRateHigh fires and reaches the webhook and ntfy', async () => {
    await database!.cutOff();
    const statuses = new Map<number, number>();
    const grpcCodes = new Map<string, number>();
    let injecting = true;
    const traffic = (async () => {
      while (injecting) {
        const status = (await fetch(`http://127.0.0.1:${ports.web}/login`)).status;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        const { code } = await sensor!.reportEvents(1, `outage-${Date.now()}`);
        grpcCodes.set(code, (grpcCodes.get(code) ?? 0) + 1);
        await sleep(100);
      }
    })();
    try {
      const notification = await receiver.waitForAlert(
        'TrapperKeeperErrorRateHigh for the web UI at the webhook',
        (a, r) => r.path === '/hook' && a.labels.alertname === ALERTS.errorRateHigh && a.labels.job === 'trapperkeeper-web-ui' && a.status === 'firing',
        45_000,
        () => `web-ui answers so far: ${JSON.stringify([...statuses])}\n${logs()}`,
      );
      const alert = notification.body.alerts.find((a) => a.labels.job === 'trapperkeeper-web-ui')!;
      assert.deepEqual(alert.labels, { alertname: ALERTS.errorRateHigh, severity: 'critical', job: 'trapperkeeper-web-ui', stack: STACK });
      assert.match(alert.annotations.summary!, /^trapperkeeper-web-ui: \d+(\.\d+)?% of requests fail with server errors$/);
      const expected = alertDefinitions(undefined, TIMING).find((d) => d.alert === ALERTS.errorRateHigh)!;
      assert.equal(alert.annotations.description, expected.description({ label: (name) => alert.labels[name] ?? '', value: () => '', external: () => STACK }));

      const ntfy = await receiver.waitForAlert('the same alert at the ntfy topic', (a, r) => r.path === '/tk-alerts' && a.labels.alertname === ALERTS.errorRateHigh, 10_000);
      assert.equal(ntfy.query.get('tpl'), 'yes');
      assert.match(ntfy.query.get('m') ?? '', /\{\{range \.alerts\}\}/);
    } finally {
      injecting = false;
      await traffic;
    }
    assert.ok((statuses.get(500) ?? 0) > 0, `the web UI never answered 500: ${JSON.stringify([...statuses])}`);
    assert.ok((grpcCodes.get('UNAVAILABLE') ?? 0) > 0, `ReportEvents never answered UNAVAILABLE: ${JSON.stringify([...grpcCodes])}`);
    await prometheus.waitForQuery('trapperkeeper_grpc_requests_total{method="ReportEvents",code="UNAVAILABLE"}', (s) => s.length === 1, 10_000);
  });

  test('every dashboard query and annotation is valid PromQL and returns series from this scrape (cAdvisor\'s: valid only)', async () => {
    const end = new Date();
    const range = `${Math.ceil((end.getTime() - started.getTime()) / 1000)}s`;
    const problems: string[] = [];
    const queries = dashboardQueries();
    assert.ok(queries.length > 40, `only ${queries.length} queries found`);
    for (const { where, expr } of queries) {
      const answer = await prometheus.queryRange(withGrafanaVariables(expr, range), started, end, 1);
      if (answer.status !== 'success') problems.push(`${where}: invalid: ${answer.error}`);
      else if (!needsCadvisor(expr) && answer.data!.result.length === 0) problems.push(`${where}: no series: ${expr}`);
    }
    assert.deepEqual(problems, []);
  });

  test('the dashboard check reports a misspelled metric and broken PromQL (it can fail)', async () => {
    const end = new Date();
    const misspelled = await prometheus.queryRange('sum(rate(trapperkeeper_http_request_total[10s]))', started, end, 1);
    assert.equal(misspelled.status, 'success');
    assert.deepEqual(misspelled.data!.result as PromSample[], []);
    const broken = await prometheus.queryRange('sum(rate(trapperkeeper_http_requests_total[10s])', started, end, 1);
    assert.equal(broken.status, 'error');
  });
});
