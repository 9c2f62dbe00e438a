import assert from 'node:assert/strict';
import { before, beforeEach, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_MONITORING_IMAGES } from '../../../components/monitoring/images.js';
import type { DockerStackConfig } from '../../config.js';
import { planImageTag } from '../image-tag.js';
import { parseDockerReleasePlan } from '../release-plan.js';
import { DockerTarget } from '../target.js';
import {
  CANARY,
  CLEAN_GIT,
  GRAFANA_CANARY,
  byName,
  dockerConfig,
  installPulumiMocks,
  isWrappedSecret,
  plainOccurrences,
  promiseOf,
  recorded,
  registered,
  resetRecorded,
  unwrapSecrets,
} from '../testing.js';
import { MONITORING_SERVICES, MONITORING_VOLUME_KEYS } from './plan.js';

const TAG = planImageTag({ version: '0.1.0', git: CLEAN_GIT, now: new Date('2026-11-24T00:00:00Z') }, { allowDirty: false });
const GRAFANA_PASSWORD = GRAFANA_CANARY;

type Inputs = Record<string, unknown>;

const config = dockerConfig;

async function declare(name: string, stackConfig: DockerStackConfig): Promise<DockerTarget> {
  const target = new DockerTarget(name, { config: stackConfig, imageTag: TAG });
  const monitoring = target.monitoring;
  await registered([
    target,
    target.infrastructure,
    target.release,
    target.cleanup,
    ...(monitoring ? [monitoring, ...Object.values(monitoring.volumes), ...Object.values(monitoring.containers)] : []),
  ]);
  return target;
}

const nameOfUrn = (urn: string) => urn.split('::').pop() ?? urn;
const inputs = (name: string) => byName(name).inputs;
const envs = (name: string) => (inputs(name).envs as unknown[] | undefined) ?? [];

describe('the Docker target with monitoring.enabled (Pulumi mocks)', () => {
  before(async () => {
    await installPulumiMocks('dev');
  });
  beforeEach(() => {
    resetRecorded();
  });

  it('declares Prometheus, Alertmanager, Grafana, node-exporter and postgres_exporter with their volumes, under the target, on the stack\'s provider and network', async () => {
    await declare('tk', config('dev', { monitoring: { enabled: true } }));
    const children = recorded.filter((r) => nameOfUrn(r.parent) === 'tk-monitoring').map((r) => `${r.type.split(':').pop()} ${r.name}`).sort();
    assert.deepEqual(children, [
      ...MONITORING_SERVICES.map((s) => `Container tk-monitoring-${s}`),
      ...MONITORING_SERVICES.map((s) => `RemoteImage tk-monitoring-${s}-image`),
      ...MONITORING_VOLUME_KEYS.map((k) => `Volume tk-monitoring-${k}`),
    ].sort());
    assert.equal(nameOfUrn(byName('tk-monitoring').parent), 'tk');
    const provider = byName('tk-docker').urn;
    for (const child of recorded.filter((r) => nameOfUrn(r.parent) === 'tk-monitoring')) assert.ok(child.provider.startsWith(`${provider}::`), child.name);
    const containers = MONITORING_SERVICES.map((s) => inputs(`tk-monitoring-${s}`));
    assert.deepEqual(containers.map((c) => c.name), ['tk-dev-prometheus', 'tk-dev-alertmanager', 'tk-dev-grafana', 'tk-dev-node-exporter', 'tk-dev-postgres-exporter']);
    for (const c of containers) assert.deepEqual(c.networksAdvanced, [{ name: 'tk-dev-net', aliases: [] }]);
    assert.deepEqual(
      MONITORING_SERVICES.map((s) => inputs(`tk-monitoring-${s}-image`).name),
      [DEFAULT_MONITORING_IMAGES.prometheus, DEFAULT_MONITORING_IMAGES.alertmanager, DEFAULT_MONITORING_IMAGES.grafana, DEFAULT_MONITORING_IMAGES.nodeExporter, DEFAULT_MONITORING_IMAGES.postgresExporter],
    );
    for (const service of ['prometheus', 'nodeExporter']) {
      assert.ok(byName('tk-release').dependencies.includes(byName(`tk-monitoring-${service}`).urn), `the release waits for ${service}, which it writes into`);
    }
  });

  it('publishes only Grafana, on 127.0.0.1:3000 even when docker.bindAddress is 0.0.0.0, or where monitoring.grafana says', async () => {
    const target = await declare('tk-pub', config('prod', { docker: { bindAddress: '0.0.0.0' }, monitoring: { enabled: true } }));
    assert.equal(await promiseOf(target.endpoints.grafanaUrl!), 'http://127.0.0.1:3000');
    assert.deepEqual(inputs('tk-pub-monitoring-grafana').ports, [{ internal: 3000, external: 3000, ip: '127.0.0.1', protocol: 'tcp' }]);
    for (const service of MONITORING_SERVICES.filter((s) => s !== 'grafana')) assert.deepEqual(inputs(`tk-pub-monitoring-${service}`).ports, [], `${service} publishes nothing`);
    resetRecorded();
    await declare('tk-pub2', config('prod', { monitoring: { enabled: true, grafana: { port: 3300, bindAddress: '10.0.0.5' } } }));
    assert.deepEqual(inputs('tk-pub2-monitoring-grafana').ports, [{ internal: 3000, external: 3300, ip: '10.0.0.5', protocol: 'tcp' }]);
  });

  it('gives Grafana its admin password and postgres_exporter its DSN as secrets in the environment, never in plain text anywhere', async () => {
    await declare('tk-sec', config('dev', { monitoring: { enabled: true } }));
    const grafanaSecret = envs('tk-sec-monitoring-grafana').filter(isWrappedSecret);
    assert.deepEqual(grafanaSecret.map(unwrapSecrets), [`GF_SECURITY_ADMIN_PASSWORD=${GRAFANA_PASSWORD}`]);
    const dsn = envs('tk-sec-monitoring-postgresExporter').filter(isWrappedSecret).map(unwrapSecrets);
    assert.deepEqual(dsn, [`DATA_SOURCE_NAME=postgresql://trapperkeeper:${CANARY.postgresPassword}@postgres:5432/trapperkeeper?sslmode=disable`]);
    for (const resource of recorded) {
      for (const canary of [GRAFANA_PASSWORD, CANARY.postgresPassword, encodeURIComponent(CANARY.postgresPassword)]) {
        assert.deepEqual(plainOccurrences(resource.inputs, canary), [], `${resource.name} carries a secret in plain text`);
      }
    }
    for (const service of MONITORING_SERVICES) {
      const command = (inputs(`tk-sec-monitoring-${service}`).command as string[] | undefined) ?? [];
      assert.ok(!command.join(' ').includes(GRAFANA_PASSWORD) && !command.join(' ').includes(CANARY.postgresPassword), `${service} command line`);
    }
    assert.ok(envs('tk-sec-monitoring-grafana').includes('GF_AUTH_ANONYMOUS_ENABLED=false'));
  });

  it('keeps Prometheus, Alertmanager and Grafana data and the deploy metrics in volumes that survive a destroy unless the stack is ephemeral', async () => {
    await declare('tk-vol', config('prod', { monitoring: { enabled: true } }));
    assert.deepEqual(MONITORING_VOLUME_KEYS.map((k) => [inputs(`tk-vol-monitoring-${k}`).name, byName(`tk-vol-monitoring-${k}`).retainOnDelete]), [
      ['tk-prod-prometheus-data', true],
      ['tk-prod-prometheus-targets', true],
      ['tk-prod-alertmanager-data', true],
      ['tk-prod-grafana-data', true],
      ['tk-prod-deploy-metrics', true],
    ]);
    assert.deepEqual(inputs('tk-vol-monitoring-prometheus').volumes, [
      { volumeName: 'tk-prod-prometheus-data', containerPath: '/prometheus' },
      { volumeName: 'tk-prod-prometheus-targets', containerPath: '/etc/prometheus/targets' },
    ]);
    assert.deepEqual(inputs('tk-vol-monitoring-grafana').volumes, [{ volumeName: 'tk-prod-grafana-data', containerPath: '/var/lib/grafana' }]);
    assert.deepEqual(inputs('tk-vol-monitoring-nodeExporter').volumes, [{ volumeName: 'tk-prod-deploy-metrics', containerPath: '/var/lib/trapperkeeper/deploy-metrics' }]);
    assert.deepEqual(inputs('tk-vol-monitoring-nodeExporter').mounts, [{ type: 'bind', source: '/', target: '/host', readOnly: true }]);
    assert.ok((inputs('tk-vol-monitoring-nodeExporter').command as string[]).includes('--collector.textfile.directory=/var/lib/trapperkeeper/deploy-metrics'));
    resetRecorded();
    await declare('tk-eph', config('dev', { ephemeral: true, monitoring: { enabled: true } }));
    for (const key of MONITORING_VOLUME_KEYS) assert.equal(byName(`tk-eph-monitoring-${key}`).retainOnDelete, false, key);
  });

  it('uploads the rendered files: Prometheus\' config and rules (the app targets are the release\'s), Alertmanager\'s, Grafana\'s provisioning and dashboards', async () => {
    await declare('tk-files', config('dev', { monitoring: { enabled: true, retention: '30d' } }));
    const uploads = (service: string) => (inputs(`tk-files-monitoring-${service}`).uploads as { file: string; content: string }[]).map((u) => u.file).sort();
    assert.deepEqual(uploads('prometheus'), ['/etc/prometheus/prometheus.yml', '/etc/prometheus/rules/trapperkeeper.yml']);
    assert.deepEqual(uploads('alertmanager'), ['/etc/alertmanager/alertmanager.yml']);
    assert.ok(uploads('grafana').some((f) => f.startsWith('/etc/grafana/provisioning/datasources/')));
    assert.equal(uploads('grafana').filter((f) => f.startsWith('/var/lib/trapperkeeper/dashboards/') && f.endsWith('.json')).length, 4);
    const prometheusYml = (inputs('tk-files-monitoring-prometheus').uploads as { file: string; content: string }[]).find((u) => u.file.endsWith('prometheus.yml'))!.content;
    const parsed = parseYaml(prometheusYml) as { alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] }; scrape_configs: { job_name: string; static_configs?: { targets: string[] }[] }[] };
    assert.deepEqual(parsed.alerting.alertmanagers[0]!.static_configs[0]!.targets, ['tk-dev-alertmanager:9093']);
    assert.deepEqual(Object.fromEntries(parsed.scrape_configs.filter((j) => j.static_configs).map((j) => [j.job_name, j.static_configs![0]!.targets])), {
      node: ['tk-dev-node-exporter:9100'],
      postgres: ['tk-dev-postgres-exporter:9187'],
    });
    assert.ok((inputs('tk-files-monitoring-prometheus').command as string[]).includes('--storage.tsdb.retention.time=30d'));
  });

  it('hands the release the monitoring containers and has web-ui serve its metrics to the network', async () => {
    const target = await declare('tk-plan', config('dev', { monitoring: { enabled: true } }));
    const plan = parseDockerReleasePlan((inputs('tk-plan-release').environment as Inputs).TK_RELEASE_PLAN, 'TK_RELEASE_PLAN', 'pulumi up');
    assert.equal(plan.appEnv.TK_WEB_UI_METRICS_HOST, '0.0.0.0');
    assert.deepEqual(plan.target.monitoring, {
      prometheusContainer: 'tk-dev-prometheus',
      targetsDir: '/etc/prometheus/targets',
      nodeExporterContainer: 'tk-dev-node-exporter',
      textfileDir: '/var/lib/trapperkeeper/deploy-metrics',
      metricsPorts: { 'sensor-api': 9090, 'web-ui': 9091 },
    });
    assert.deepEqual(target.releasePlan, plan);
  });

  it('uses the configured images (an offline stand-in, a private registry)', async () => {
    await declare('tk-img', config('dev', { monitoring: { enabled: true, images: { prometheus: 'tk-offline/prometheus:2.42', nodeExporter: 'registry.example.com:5000/ops/node-exporter:v1' } } }));
    assert.equal(inputs('tk-img-monitoring-prometheus-image').name, 'tk-offline/prometheus:2.42');
    assert.equal(inputs('tk-img-monitoring-nodeExporter-image').name, 'registry.example.com:5000/ops/node-exporter:v1');
  });

  it('declares nothing of monitoring when it is off, and the release plan and app environment stay as they were', async () => {
    const target = await declare('tk-off', config('dev', {}));
    assert.equal(target.monitoring, undefined);
    assert.equal(target.endpoints.grafanaUrl, undefined);
    assert.deepEqual(recorded.filter((r) => /monitoring|prometheus|grafana|exporter|alertmanager/i.test(r.name)), []);
    const plan = parseDockerReleasePlan((inputs('tk-off-release').environment as Inputs).TK_RELEASE_PLAN, 'TK_RELEASE_PLAN', 'pulumi up');
    assert.equal(plan.target.monitoring, undefined);
    assert.equal(plan.appEnv.TK_WEB_UI_METRICS_HOST, undefined);
  });
});
