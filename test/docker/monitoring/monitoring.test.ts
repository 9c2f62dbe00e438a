import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ALERTS } from '../../../components/monitoring/alert-rules.js';
import { DEPLOY_METRICS } from '../../../components/monitoring/deploy-metrics.js';
import { APP_SCRAPE_JOBS, EXPORTER_JOBS } from '../../../components/monitoring/app-metrics.js';
import { databaseUrl, planDockerInfrastructure } from '../../../providers/docker/infrastructure-spec.js';
import { planDockerMonitoring, postgresExporterDsn } from '../../../providers/docker/monitoring/plan.js';
import type { ReleaseImage } from '../../../providers/docker/spec.js';
import { dockerConfig } from '../../../providers/docker/testing.js';
import { standUpMonitoring, type MonitoringHandle } from '../../support/docker-monitoring.js';
import { TEST_IMAGES, requireDocker, testEngine, uniqueName } from '../../support/images.js';
import { createReleaseFixture, releaseId, type ReleaseFixture } from '../../support/release-fixture.js';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * The monitoring of a Docker stack stood up from the objects the Pulumi program declares (Grafana
 * aside: no image of it can be had here; test/monitoring validates its provisioning), the
 * release run by the same backend `pulumi up` runs, and what Prometheus then holds, asked
 * through its HTTP API from inside the stack (promtool in the Prometheus container): nothing is
 * published but what the stack publishes.
 */
describe('monitoring on a real Docker engine: Prometheus scrapes the released slots and the deploy metrics', { timeout: 600_000 }, () => {
  const stack = uniqueName('tkmon');
  const monitoringConfig = {
    enabled: true,
    scrapeInterval: '1s',
    evaluationInterval: '1s',
    images: { ...TEST_IMAGES.monitoring },
  };
  let fixture: ReleaseFixture;
  let monitoring: MonitoringHandle | undefined;
  let v1: ReleaseImage;
  let v2: ReleaseImage;
  let prometheus: string;

  async function query(expr: string): Promise<Sample[]> {
    const out = await testEngine.run(['exec', prometheus, 'promtool', 'query', 'instant', '-o', 'json', 'http://127.0.0.1:9090', expr], { timeoutMs: 30_000 });
    return JSON.parse(out) as Sample[];
  }

  async function eventually(expr: string, accept: (samples: Sample[]) => boolean, timeoutMs = 60_000): Promise<Sample[]> {
    const deadline = Date.now() + timeoutMs;
    let last: Sample[] | string = [];
    for (;;) {
      try {
        last = await query(expr);
        if (accept(last)) return last;
      } catch (error) {
        last = (error as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`${expr} never matched within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  before(async () => {
    await requireDocker();
    fixture = await createReleaseFixture(stack, { monitoring: monitoringConfig });
    const config = dockerConfig(stack, { ephemeral: true, monitoring: monitoringConfig });
    const infraSpec = planDockerInfrastructure(config);
    const spec = planDockerMonitoring(infraSpec, { settings: config.monitoring, ephemeral: true });
    const password = new URL(fixture.secrets.TK_DATABASE_URL!).password;
    assert.equal(fixture.secrets.TK_DATABASE_URL, databaseUrl(infraSpec, decodeURIComponent(password)));
    monitoring = await standUpMonitoring(spec, {
      services: ['prometheus', 'alertmanager', 'nodeExporter', 'postgresExporter'],
      secrets: { postgresExporterDsn: postgresExporterDsn(infraSpec, decodeURIComponent(password)) },
    });
    prometheus = spec.release.prometheusContainer;
    v1 = await fixture.releaseImage(releaseId('0.1.0', 1));
    v2 = await fixture.releaseImage(releaseId('0.2.0', 2));
  });

  after(async () => {
    await monitoring?.tearDown();
    await fixture?.tearDown();
  });

  it('runs each container as planned: its command, volumes, read-only host root, no published port, secrets only by environment', async () => {
    assert.ok(monitoring);
    const spec = monitoring.spec;
    for (const service of ['prometheus', 'alertmanager', 'nodeExporter', 'postgresExporter'] as const) {
      const planned = spec.containers[service];
      const [inspected] = JSON.parse(await testEngine.run(['inspect', planned.name])) as {
        Args: string[];
        Config: { Env: string[]; Labels: Record<string, string> };
        Mounts: { Type: string; Name?: string; Source: string; Destination: string; RW: boolean }[];
        HostConfig: { PortBindings: Record<string, unknown> | null; RestartPolicy: { Name: string } };
        NetworkSettings: { Networks: Record<string, unknown> };
      }[];
      assert.deepEqual(inspected!.Args, planned.command ?? [], `${service} command`);
      assert.deepEqual(
        inspected!.Mounts.map((m) => (m.Type === 'volume' ? `${m.Name}:${m.Destination}` : `${m.Source}:${m.Destination}:${m.RW ? 'rw' : 'ro'}`)).sort(),
        [...planned.mounts.map((m) => `${spec.volumes[m.volume].name}:${m.containerPath}`), ...planned.binds.map((b) => `${b.hostPath}:${b.containerPath}:ro`)].sort(),
        `${service} mounts`,
      );
      assert.deepEqual(Object.keys(inspected!.HostConfig.PortBindings ?? {}), [], `${service} publishes nothing`);
      assert.equal(inspected!.HostConfig.RestartPolicy.Name, 'unless-stopped');
      assert.deepEqual(Object.keys(inspected!.NetworkSettings.Networks), [spec.network]);
      for (const [key, value] of Object.entries(planned.labels)) assert.equal(inspected!.Config.Labels[key], value);
      for (const variable of Object.keys(planned.secretEnv)) {
        assert.ok(inspected!.Config.Env.some((entry) => entry.startsWith(`${variable}=`) && entry.includes(fixture.canary)), `${service} gets ${variable} by environment`);
        assert.ok(!inspected!.Args.join(' ').includes(fixture.canary), `${service}: no secret on its command line`);
      }
    }
  });

  it('the exporters answer: node-exporter (the host through its read-only root) and postgres_exporter (the stack\'s database)', async () => {
    await eventually(`up{job="${EXPORTER_JOBS.node}"} == 1`, (s) => s.length === 1);
    await eventually(`pg_up{job="${EXPORTER_JOBS.postgres}"} == 1`, (s) => s.length === 1);
    const filesystems = await eventually(`node_filesystem_size_bytes{job="${EXPORTER_JOBS.node}",mountpoint="/"}`, (s) => s.length >= 1);
    assert.ok(Number(filesystems[0]!.value[1]) > 0, 'the host root filesystem has a size');
    // The DSN reached postgres_exporter through its environment only.
    const inspected = await testEngine.run(['inspect', '--format', '{{json .Config.Cmd}} {{json .Args}}', `tk-${stack}-postgres-exporter`]);
    assert.ok(!inspected.includes(fixture.canary), 'the database password is on no command line');
  });

  it('a release: the live slot\'s services are scraped with their slot and role, and the deploy metrics of node-exporter\'s textfile name the release', async () => {
    const outcome = await fixture.release(fixture.specFor(v1));
    assert.equal(outcome.liveSlot, 'blue');
    const release = outcome.liveRelease;
    for (const job of Object.values(APP_SCRAPE_JOBS)) {
      const up = await eventually(`up{job="${job}",slot="blue",role="live"} == 1`, (s) => s.length === 1);
      assert.match(up[0]!.metric.instance!, new RegExp(`^tk-${stack}-blue-(sensor-api|web-ui):\\d+$`));
    }
    // The app's own series, from both services of the live slot.
    const requests = await eventually('trapperkeeper_uptime_seconds{slot="blue"}', (s) => s.length === 2);
    assert.deepEqual(requests.map((s) => s.metric.job).sort(), Object.values(APP_SCRAPE_JOBS).sort());
    const info = await eventually(`${DEPLOY_METRICS.releaseInfo.name}{job="${EXPORTER_JOBS.node}"}`, (s) => s.length === 1);
    assert.deepEqual(
      { stack: info[0]!.metric.stack, release: info[0]!.metric.release, slot: info[0]!.metric.slot, version: info[0]!.metric.version },
      { stack, release, slot: 'blue', version: '0.1.0' },
    );
    const promotions = await query(`${DEPLOY_METRICS.promotions.name}{kind="release"}`);
    assert.deepEqual(promotions.map((s) => s.value[1]), ['1']);
    const phases = await query(`${DEPLOY_METRICS.phaseDuration.name}`);
    assert.ok(phases.some((s) => s.metric.phase === 'health-gate' && Number(s.value[1]) > 0), JSON.stringify(phases));
  });

  it('the next release: the candidate is scraped beside the live slot while it starts, then becomes the live one; the counters go on', async () => {
    const outcome = await fixture.release(fixture.specFor(v2));
    assert.equal(outcome.liveSlot, 'green');
    await eventually(`up{job="${APP_SCRAPE_JOBS['web-ui']}",slot="green",role="live"} == 1`, (s) => s.length === 1);
    // The gate alone takes more than a scrape interval: the candidate was scraped before the switch.
    const candidate = await query(`max_over_time(up{slot="green",role="candidate"}[10m])`);
    assert.deepEqual(candidate.map((s) => s.value[1]), ['1', '1'], 'both services of the candidate answered while it was staged');
    await eventually(`${DEPLOY_METRICS.promotions.name}{kind="release"} == 2`, (s) => s.length === 1);
    const info = await eventually(`${DEPLOY_METRICS.releaseInfo.name}{slot="green"}`, (s) => s.length === 1);
    assert.equal(info[0]!.metric.release, outcome.liveRelease);
    // The parked slot is no longer a target: nothing down is counted for it.
    await eventually(`up{slot="blue"}`, (s) => s.length === 0, 30_000);
  });

  it('a failed release: the failure is counted in the phase that failed, and TrapperKeeperDeploymentFailed fires naming the release and the phase', async () => {
    // An app that refuses its config: the release fails where it first runs the app (the migration check).
    const spec = fixture.specFor(v1, { TK_LOG_LEVEL: 'not-a-level' });
    await assert.rejects(fixture.release(spec));
    const failures = await eventually(`${DEPLOY_METRICS.failures.name} > 0`, (s) => s.length === 1);
    const phase = failures[0]!.metric.phase!;
    assert.equal(phase, 'check-migrations');
    const firing = await eventually(`ALERTS{alertname="${ALERTS.deploymentFailed}",alertstate="firing"}`, (s) => s.length === 1);
    assert.deepEqual({ release: firing[0]!.metric.release, phase: firing[0]!.metric.phase, stack: firing[0]!.metric.stack }, { release: spec.image.releaseId, phase, stack });
    // Green still serves and is still the one scraped as live.
    await eventually(`up{job="${APP_SCRAPE_JOBS['sensor-api']}",role="live"} == 1`, (s) => s.length === 1 && s[0]!.metric.slot === 'green');
  });
});
