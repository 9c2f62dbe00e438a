import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { ALERTS, PRODUCTION_ALERT_TIMING, alertDefinitions, renderAlertRules, type AlertName } from './alert-rules.js';
import { renderAlertmanagerConfig } from './alertmanager-config.js';
import { monitoringFiles } from './monitoring-files.js';
import { PROMETHEUS_FILES } from './prometheus-config.js';
import { DEFAULT_MONITORING_SECTION, monitoringSectionSchema } from './settings.js';
import { FileTree, MONITORING_TOOLS, runTool } from './testing.js';

/**
 * The rendered configuration through Prometheus' and Alertmanager's own checkers, and every
 * alert through `promtool test rules`: fed series over simulated time, each alert must fire with
 * the labels and the exact summary and description an operator reads, and must stay silent
 * when the condition is absent or has not lasted its `for` yet. The rules are the production
 * ones (2m error rate, 1m database, ...).
 */

const STACK = 'prod';
const EXTERNAL = { stack: STACK };
const NODE = { job: 'node', instance: 'tk-prod-node-exporter:9100' };
const SENSOR = { job: 'trapperkeeper-sensor-api', instance: 'tk-prod-blue-sensor-api:9090' };
const WEB = { job: 'trapperkeeper-web-ui', instance: 'tk-prod-blue-web-ui:9091' };

type Labels = Record<string, string>;
interface Series {
  series: string;
  values: string;
}
interface ExpectedAlert {
  labels: Labels;
  /** The alert's value as its annotations format it ($value | humanize...). */
  value?: string;
}
interface AlertCheck {
  at: string;
  alert: AlertName;
  firing: ExpectedAlert[];
}
interface RuleTestGroup {
  name: string;
  series: Series[];
  checks: AlertCheck[];
  exprChecks?: { at: string; expr: string; samples: { labels: string; value: number }[] }[];
}

function series(name: string, labels: Labels, values: string): Series {
  const text = Object.entries(labels).map(([key, value]) => `${key}="${value}"`).join(',');
  return { series: `${name}{${text}}`, values };
}

const definitions = alertDefinitions();
function definition(alert: AlertName) {
  const found = definitions.find((d) => d.alert === alert);
  if (!found) throw new Error(`no alert ${alert}`);
  return found;
}

/** What Prometheus must render for this alert with these labels: the one text, filled in. */
function expectedAlert(alert: AlertName, expected: ExpectedAlert) {
  const d = definition(alert);
  const labels = { ...expected.labels, severity: d.severity };
  const values = {
    label: (name: string) => labels[name as keyof typeof labels] ?? '<no value>',
    value: () => {
      if (expected.value === undefined) throw new Error(`${alert}: the test must give the expected value`);
      return expected.value;
    },
    external: (name: string) => EXTERNAL[name as keyof typeof EXTERNAL] ?? '<no value>',
  };
  return { exp_labels: labels, exp_annotations: { summary: d.summary(values), description: d.description(values) } };
}

function promtoolTestFile(rulesFile: string, groups: RuleTestGroup[]): string {
  return toYaml(
    {
      rule_files: [rulesFile],
      evaluation_interval: '1m',
      tests: groups.map((group) => ({
        name: group.name,
        interval: '1m',
        external_labels: EXTERNAL,
        input_series: group.series,
        alert_rule_test: group.checks.map((check) => ({
          eval_time: check.at,
          alertname: check.alert,
          exp_alerts: check.firing.map((expected) => expectedAlert(check.alert, expected)),
        })),
        ...(group.exprChecks ? { promql_expr_test: group.exprChecks.map((c) => ({ eval_time: c.at, expr: c.expr, exp_samples: c.samples })) } : {}),
      })),
    },
    { lineWidth: 0 },
  );
}

const http = (labels: Labels, route: string, code: string, values: string) =>
  series('trapperkeeper_http_requests_total', { ...labels, service: labels.job === WEB.job ? 'web-ui' : 'sensor-api', method: 'GET', route, code }, values);
const grpc = (method: string, code: string, values: string) => series('trapperkeeper_grpc_requests_total', { ...SENSOR, method, code }, values);

const RULE_TESTS: RuleTestGroup[] = [
  {
    name: 'error rate: half the web pages fail (the sensor API is healthy)',
    series: [
      http(WEB, '/login', '200', '0+60x20'),
      http(WEB, '/login', '500', '0+60x20'),
      grpc('SyncRules', 'OK', '0+60x20'),
    ],
    checks: [
      { at: '2m', alert: ALERTS.errorRateHigh, firing: [] },
      { at: '10m', alert: ALERTS.errorRateHigh, firing: [{ labels: { job: WEB.job }, value: '50%' }] },
    ],
    exprChecks: [
      {
        at: '10m',
        expr: 'job:trapperkeeper_request_errors:rate5m',
        samples: [{ labels: `job:trapperkeeper_request_errors:rate5m{job="${WEB.job}",protocol="http"}`, value: 1 }],
      },
    ],
  },
  {
    name: 'error rate: sensors get UNAVAILABLE on half their calls',
    series: [grpc('ReportEvents', 'OK', '0+30x20'), grpc('ReportEvents', 'UNAVAILABLE', '0+30x20')],
    checks: [{ at: '10m', alert: ALERTS.errorRateHigh, firing: [{ labels: { job: SENSOR.job }, value: '50%' }] }],
  },
  {
    name: 'error rate: 1% of pages fail, /readyz answers 503 while draining, sensors send bad requests',
    series: [
      http(WEB, '/login', '200', '0+99x20'),
      http(WEB, '/login', '500', '0+1x20'),
      http(WEB, '/readyz', '503', '0+600x20'),
      grpc('ReportEvents', 'OK', '0+10x20'),
      grpc('ReportEvents', 'INVALID_ARGUMENT', '0+90x20'),
    ],
    checks: [{ at: '10m', alert: ALERTS.errorRateHigh, firing: [] }],
  },
  {
    name: 'instance down: the live sensor API stops answering; a starting candidate does not count',
    series: [
      series('up', { ...SENSOR, slot: 'blue', role: 'live' }, '1 1 0x10'),
      series('up', { ...WEB, slot: 'blue', role: 'live' }, '1x12'),
      series('up', { job: SENSOR.job, instance: 'tk-prod-green-sensor-api:9090', slot: 'green', role: 'candidate' }, '0x12'),
    ],
    checks: [
      { at: '2m', alert: ALERTS.instanceDown, firing: [] },
      { at: '5m', alert: ALERTS.instanceDown, firing: [{ labels: { ...SENSOR, slot: 'blue', role: 'live' } }] },
    ],
  },
  {
    name: 'ingestion stalled: events stop after an hour of traffic',
    series: [series('trapperkeeper_events_accepted_total', SENSOR, '0+100x60 6000x30')],
    checks: [
      { at: '70m', alert: ALERTS.ingestionStalled, firing: [] },
      { at: '80m', alert: ALERTS.ingestionStalled, firing: [{ labels: { job: SENSOR.job } }] },
    ],
  },
  {
    name: 'ingestion stalled: a stack whose sensors never sent anything is not stalled',
    series: [series('trapperkeeper_events_accepted_total', SENSOR, '0x90')],
    checks: [{ at: '80m', alert: ALERTS.ingestionStalled, firing: [] }],
  },
  {
    name: 'database unreachable: postgres_exporter cannot connect',
    series: [series('pg_up', { job: 'postgres', instance: 'tk-prod-postgres-exporter:9187' }, '1 0x10')],
    checks: [
      { at: '1m', alert: ALERTS.databaseUnreachable, firing: [] },
      { at: '5m', alert: ALERTS.databaseUnreachable, firing: [{ labels: { job: 'postgres', instance: 'tk-prod-postgres-exporter:9187' } }] },
    ],
  },
  {
    name: 'database unreachable: a database that answers',
    series: [series('pg_up', { job: 'postgres', instance: 'tk-prod-postgres-exporter:9187' }, '1x10')],
    checks: [{ at: '5m', alert: ALERTS.databaseUnreachable, firing: [] }],
  },
  {
    name: 'deployment failed: the last attempt failed at the health gate',
    series: [
      series('trapperkeeper_deploy_last_success_timestamp_seconds', { ...NODE, stack: STACK }, '1000x10'),
      series('trapperkeeper_deploy_last_failure_timestamp_seconds', { ...NODE, stack: STACK }, '2000x10'),
      series('trapperkeeper_deploy_last_failure_info', { ...NODE, stack: STACK, release: '0.4.0-abc', phase: 'health-gate' }, '1x10'),
    ],
    checks: [{ at: '1m', alert: ALERTS.deploymentFailed, firing: [{ labels: { stack: STACK, release: '0.4.0-abc', phase: 'health-gate' } }] }],
  },
  {
    name: 'deployment failed: the very first release of a stack failed',
    series: [
      series('trapperkeeper_deploy_last_success_timestamp_seconds', { ...NODE, stack: STACK }, '0x10'),
      series('trapperkeeper_deploy_last_failure_timestamp_seconds', { ...NODE, stack: STACK }, '2000x10'),
      series('trapperkeeper_deploy_last_failure_info', { ...NODE, stack: STACK, release: '0.1.0-abc', phase: 'migrate' }, '1x10'),
    ],
    checks: [{ at: '1m', alert: ALERTS.deploymentFailed, firing: [{ labels: { stack: STACK, release: '0.1.0-abc', phase: 'migrate' } }] }],
  },
  {
    name: 'deployment failed: a later release went live',
    series: [
      series('trapperkeeper_deploy_last_success_timestamp_seconds', { ...NODE, stack: STACK }, '3000x10'),
      series('trapperkeeper_deploy_last_failure_timestamp_seconds', { ...NODE, stack: STACK }, '2000x10'),
      series('trapperkeeper_deploy_last_failure_info', { ...NODE, stack: STACK, release: '0.4.0-abc', phase: 'health-gate' }, '1x10'),
    ],
    checks: [{ at: '1m', alert: ALERTS.deploymentFailed, firing: [] }],
  },
  {
    // promtool's clock starts at the Unix epoch: a rollback at 300 s is 5 minutes old at 10m.
    name: 'rolled back: verification failed five minutes ago; the alert clears after its window',
    series: [
      series('trapperkeeper_deploy_last_rollback_timestamp_seconds', { ...NODE, stack: STACK }, '300x60'),
      series('trapperkeeper_deploy_last_rollback_info', { ...NODE, stack: STACK, from_release: '0.4.0-abc', to_release: '0.3.0-def', reason: 'verify_failed' }, '1x60'),
    ],
    checks: [
      {
        at: '10m',
        alert: ALERTS.deploymentRolledBack,
        firing: [{ labels: { ...NODE, stack: STACK, from_release: '0.4.0-abc', to_release: '0.3.0-def', reason: 'verify_failed' }, value: '5m 0s' }],
      },
      { at: '40m', alert: ALERTS.deploymentRolledBack, firing: [] },
    ],
  },
  {
    name: 'rolled back: a stack that never rolled back',
    series: [series('trapperkeeper_deploy_last_rollback_timestamp_seconds', { ...NODE, stack: STACK }, '0x10')],
    checks: [{ at: '5m', alert: ALERTS.deploymentRolledBack, firing: [] }],
  },
  {
    name: 'disk: the root filesystem is 95% full; a full tmpfs and an 80% disk are not',
    series: [
      series('node_filesystem_avail_bytes', { ...NODE, device: '/dev/vda1', fstype: 'ext4', mountpoint: '/' }, '5x10'),
      series('node_filesystem_size_bytes', { ...NODE, device: '/dev/vda1', fstype: 'ext4', mountpoint: '/' }, '100x10'),
      series('node_filesystem_avail_bytes', { ...NODE, device: 'tmpfs', fstype: 'tmpfs', mountpoint: '/run' }, '1x10'),
      series('node_filesystem_size_bytes', { ...NODE, device: 'tmpfs', fstype: 'tmpfs', mountpoint: '/run' }, '100x10'),
      series('node_filesystem_avail_bytes', { ...NODE, device: '/dev/vdb', fstype: 'xfs', mountpoint: '/data' }, '20x10'),
      series('node_filesystem_size_bytes', { ...NODE, device: '/dev/vdb', fstype: 'xfs', mountpoint: '/data' }, '100x10'),
    ],
    checks: [
      { at: '4m', alert: ALERTS.diskAlmostFull, firing: [] },
      { at: '6m', alert: ALERTS.diskAlmostFull, firing: [{ labels: { ...NODE, device: '/dev/vda1', fstype: 'ext4', mountpoint: '/' }, value: '95%' }] },
    ],
  },
  {
    name: 'memory: 90% in use for five minutes',
    series: [
      series('node_memory_MemAvailable_bytes', NODE, '10x10'),
      series('node_memory_MemTotal_bytes', NODE, '100x10'),
    ],
    checks: [
      { at: '4m', alert: ALERTS.memoryHigh, firing: [] },
      { at: '6m', alert: ALERTS.memoryHigh, firing: [{ labels: NODE, value: '90%' }] },
    ],
  },
  {
    name: 'memory: 80% in use',
    series: [series('node_memory_MemAvailable_bytes', NODE, '20x10'), series('node_memory_MemTotal_bytes', NODE, '100x10')],
    checks: [{ at: '6m', alert: ALERTS.memoryHigh, firing: [] }],
  },
  {
    name: 'exporter down: node-exporter stops; an app instance down is not an exporter',
    series: [series('up', NODE, '0x10'), series('up', { ...WEB, role: 'live' }, '0x10')],
    checks: [
      { at: '4m', alert: ALERTS.exporterDown, firing: [] },
      { at: '6m', alert: ALERTS.exporterDown, firing: [{ labels: NODE }] },
    ],
  },
];

describe('alert rules and configuration, checked by promtool and amtool', () => {
  const files = new FileTree();
  let rulesFile = '';

  before(() => {
    const rendered = monitoringFiles({
      stack: STACK,
      settings: { ...DEFAULT_MONITORING_SECTION, notify: { ...DEFAULT_MONITORING_SECTION.notify, webhookUrl: 'https://hooks.example.com/tk', ntfyUrl: 'https://ntfy.sh/tk-alerts' } },
      addresses: { prometheus: 'tk-prod-prometheus:9090', alertmanager: 'tk-prod-alertmanager:9093', nodeExporter: 'tk-prod-node-exporter:9100', postgresExporter: 'tk-prod-postgres-exporter:9187', cadvisor: 'tk-prod-cadvisor:8080' },
      appTargets: [
        { service: 'sensor-api', address: 'tk-prod-blue-sensor-api:9090', slot: 'blue', role: 'live' },
        { service: 'web-ui', address: 'tk-prod-blue-web-ui:9091', slot: 'blue', role: 'live' },
      ],
    });
    // The config names its files by their container path; promtool reads them from here instead.
    const prometheusYml = rendered.prometheus.files[PROMETHEUS_FILES.config]!.replaceAll(`${rendered.prometheus.dir}/`, `${files.path('prometheus')}/`);
    files.write({ ...rendered.prometheus.files, [PROMETHEUS_FILES.config]: prometheusYml }, 'prometheus');
    files.write(rendered.alertmanager.files, 'alertmanager');
    rulesFile = files.path('prometheus', PROMETHEUS_FILES.rules);
  });
  after(() => files.remove());

  test('promtool accepts the Prometheus config, its rule file and its scrape target files', async () => {
    const result = await runTool(MONITORING_TOOLS.promtool, ['check', 'config', files.path('prometheus', PROMETHEUS_FILES.config)]);
    assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
    assert.match(result.stdout, /SUCCESS: 1 rule files found/);
    const rules = await runTool(MONITORING_TOOLS.promtool, ['check', 'rules', rulesFile]);
    assert.equal(rules.code, 0, `${rules.stdout}${rules.stderr}`);
    assert.match(rules.stdout, new RegExp(`SUCCESS: ${definitions.length + 4} rules found`));
  });

  test('amtool accepts the Alertmanager config, with and without receivers', async () => {
    for (const config of [files.path('alertmanager', 'alertmanager.yml'), files.path('alertmanager-bare.yml')]) {
      if (config.endsWith('bare.yml')) files.write({ 'alertmanager-bare.yml': renderAlertmanagerConfig({}) });
      const result = await runTool(MONITORING_TOOLS.amtool, ['check-config', config]);
      assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
      assert.match(result.stdout, /SUCCESS/);
    }
  });

  test('amtool routes every alert to the one receiver', async () => {
    const config = files.path('alertmanager', 'alertmanager.yml');
    const route = await runTool(MONITORING_TOOLS.amtool, ['config', 'routes', 'test', `--config.file=${config}`, '--verify.receivers=trapperkeeper', `alertname=${ALERTS.errorRateHigh}`, 'severity=critical']);
    assert.equal(route.code, 0, `${route.stdout}${route.stderr}`);
    const wrong = await runTool(MONITORING_TOOLS.amtool, ['config', 'routes', 'test', `--config.file=${config}`, '--verify.receivers=elsewhere', `alertname=${ALERTS.memoryHigh}`]);
    assert.notEqual(wrong.code, 0, 'amtool must refuse a receiver the config does not route to');
  });

  test('every alert fires when its condition lasts, with its summary and description, and stays silent otherwise', async () => {
    const fired = new Set(RULE_TESTS.flatMap((group) => group.checks.filter((c) => c.firing.length > 0).map((c) => c.alert)));
    const silent = new Set(RULE_TESTS.flatMap((group) => group.checks.filter((c) => c.firing.length === 0).map((c) => c.alert)));
    for (const alert of Object.values(ALERTS)) {
      assert.ok(fired.has(alert), `no test makes ${alert} fire`);
      assert.ok(silent.has(alert), `no test shows ${alert} silent`);
    }
    files.write({ 'rules.test.yml': promtoolTestFile(rulesFile, RULE_TESTS) });
    const result = await runTool(MONITORING_TOOLS.promtool, ['test', 'rules', files.path('rules.test.yml')]);
    assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
    assert.match(result.stdout, /SUCCESS/);
  });

  test('promtool test rules catches a wrong expectation (the harness can fail)', async () => {
    const wrong: RuleTestGroup = {
      name: 'memory at 80% does not fire',
      series: [series('node_memory_MemAvailable_bytes', NODE, '20x10'), series('node_memory_MemTotal_bytes', NODE, '100x10')],
      checks: [{ at: '6m', alert: ALERTS.memoryHigh, firing: [{ labels: NODE, value: '80%' }] }],
    };
    files.write({ 'wrong.test.yml': promtoolTestFile(rulesFile, [wrong]) });
    const result = await runTool(MONITORING_TOOLS.promtool, ['test', 'rules', files.path('wrong.test.yml')]);
    assert.notEqual(result.code, 0);
    assert.match(`${result.stdout}${result.stderr}`, /FAILED/);
  });

  test('production rules keep the 2m error-rate and 1m database durations; thresholds come from the stack config', () => {
    const rules = parseYaml(renderAlertRules({ thresholds: monitoringSectionSchema.parse({ alerts: { errorRatio: 0.1 } }).alerts })) as {
      groups: { rules: { alert?: string; for?: string; expr: string }[] }[];
    };
    const byName = new Map(rules.groups.flatMap((g) => g.rules).filter((r) => r.alert).map((r) => [r.alert!, r]));
    assert.equal(byName.get(ALERTS.errorRateHigh)?.for, '2m');
    assert.match(byName.get(ALERTS.errorRateHigh)!.expr, /> 0\.1$/);
    assert.equal(byName.get(ALERTS.databaseUnreachable)?.for, '1m');
    assert.equal(PRODUCTION_ALERT_TIMING.errorRateFor, '2m');
  });
});
