import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ALERTS, alertmanagerArgs, renderAlertmanagerConfig, ALERTMANAGER_FILES } from '../../components/monitoring/index.js';
import { FileTree, MONITORING_TOOLS } from '../../components/monitoring/testing.js';
import { freePort } from '../support/free-port.js';
import { ManagedProcess, WebhookReceiver, waitFor } from './harness.js';

/**
 * The rendered Alertmanager config in a real Alertmanager (Debian's), fed alerts the way
 * Prometheus sends them (POST /api/v2/alerts): what reaches the webhook and ntfy receivers, how
 * it is grouped, that resolved alerts are sent, and that a database outage holds back the
 * alerts it causes. Production timing except group_wait and group_interval (1 s).
 */
describe('Alertmanager routes, groups, resolves and inhibits as configured', () => {
  const dirs = new FileTree();
  const receiver = new WebhookReceiver();
  let alertmanager: ManagedProcess | undefined;
  let api = '';

  const post = async (alerts: { labels: Record<string, string>; annotations?: Record<string, string>; endsAt?: string }[]) => {
    const response = await fetch(`${api}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts.map((alert) => ({ annotations: { summary: 'test' }, ...alert }))),
    });
    assert.equal(response.status, 200, await response.text());
  };

  before(async () => {
    await receiver.start();
    const port = await freePort();
    dirs.write({
      [ALERTMANAGER_FILES.config]: renderAlertmanagerConfig({
        webhookUrl: receiver.url('/hook'),
        ntfyUrl: receiver.url('/tk-alerts'),
        groupWait: '1s',
        groupInterval: '1s',
      }),
    });
    alertmanager = ManagedProcess.start(MONITORING_TOOLS.alertmanager, MONITORING_TOOLS.alertmanager, alertmanagerArgs({ configDir: dirs.dir, dataDir: dirs.path('data'), listenAddress: `127.0.0.1:${port}` }));
    api = `http://127.0.0.1:${port}`;
    await alertmanager.waitHttp(`${api}/-/ready`);
  });

  after(async () => {
    await alertmanager?.stop();
    await receiver.close();
    dirs.remove();
  });

  test('alerts of one name and severity arrive together, at the webhook and at ntfy', async () => {
    await post([
      { labels: { alertname: ALERTS.instanceDown, severity: 'critical', stack: 'grouping', instance: 'a:9090' } },
      { labels: { alertname: ALERTS.instanceDown, severity: 'critical', stack: 'grouping', instance: 'b:9091' } },
      { labels: { alertname: ALERTS.memoryHigh, severity: 'warning', stack: 'grouping', instance: 'host:9100' } },
    ]);
    for (const path of ['/hook', '/tk-alerts']) {
      const down = await receiver.waitForAlert(`${ALERTS.instanceDown} at ${path}`, (a, r) => r.path === path && a.labels.alertname === ALERTS.instanceDown, 15_000);
      assert.deepEqual(down.body.groupLabels, { alertname: ALERTS.instanceDown, severity: 'critical' });
      assert.deepEqual(down.body.alerts.map((a) => a.labels.instance).sort(), ['a:9090', 'b:9091']);
      const memory = await receiver.waitForAlert(`${ALERTS.memoryHigh} at ${path}`, (a, r) => r.path === path && a.labels.alertname === ALERTS.memoryHigh, 15_000);
      assert.deepEqual(memory.body.alerts.map((a) => a.labels.instance), ['host:9100']);
      assert.ok(memory !== down, 'another alert name is another notification');
    }
  });

  test('a resolved alert is sent as resolved', async () => {
    const labels = { alertname: ALERTS.diskAlmostFull, severity: 'critical', stack: 'resolving', mountpoint: '/' };
    await post([{ labels }]);
    await receiver.waitForAlert('the firing disk alert', (a, r) => r.path === '/hook' && a.labels.stack === 'resolving' && a.status === 'firing', 15_000);
    await post([{ labels, endsAt: new Date().toISOString() }]);
    const resolved = await receiver.waitForAlert('the resolved disk alert', (a, r) => r.path === '/hook' && a.labels.stack === 'resolving' && a.status === 'resolved', 15_000);
    assert.equal(resolved.body.status, 'resolved');
  });

  test('while the database is unreachable, its error-rate and ingestion alerts are held back, for that stack only', async () => {
    await post([{ labels: { alertname: ALERTS.databaseUnreachable, severity: 'critical', stack: 'outage', instance: 'pg:9187' } }]);
    await receiver.waitForAlert('the database alert', (a, r) => r.path === '/hook' && a.labels.alertname === ALERTS.databaseUnreachable && a.labels.stack === 'outage', 15_000);
    await post([
      { labels: { alertname: ALERTS.errorRateHigh, severity: 'critical', stack: 'outage', job: 'trapperkeeper-web-ui' } },
      { labels: { alertname: ALERTS.ingestionStalled, severity: 'warning', stack: 'outage', job: 'trapperkeeper-sensor-api' } },
      { labels: { alertname: ALERTS.errorRateHigh, severity: 'critical', stack: 'healthy-db', job: 'trapperkeeper-web-ui' } },
    ]);
    // The other stack's error-rate alert is in the same group (name and severity): the notification
    // that carries it would carry the outage stack's too, were it not inhibited.
    const errors = await receiver.waitForAlert('the other stack\'s error-rate alert', (a, r) => r.path === '/hook' && a.labels.alertname === ALERTS.errorRateHigh && a.labels.stack === 'healthy-db', 15_000);
    assert.deepEqual(errors.body.alerts.map((a) => a.labels.stack), ['healthy-db']);

    const suppressed = await waitFor('the inhibited alerts in the API', async () => {
      const response = await fetch(`${api}/api/v2/alerts?filter=stack%3D%22outage%22`);
      const alerts = (await response.json()) as { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } }[];
      const held = alerts.filter((a) => a.status.state === 'suppressed' && a.status.inhibitedBy.length > 0).map((a) => a.labels.alertname).sort();
      return held.length === 2 ? held : undefined;
    }, 10_000);
    assert.deepEqual(suppressed, [ALERTS.errorRateHigh, ALERTS.ingestionStalled].sort());
    assert.equal(
      receiver.received.some((r) => r.body.alerts.some((a) => a.labels.stack === 'outage' && a.labels.alertname !== ALERTS.databaseUnreachable)),
      false,
      'an inhibited alert reached a receiver',
    );
  });
});
