import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { NOTIFY_ENV } from './settings.js';
import { startNotifications } from './notifier.js';
import { recordedEvents, startReceiver, type Receiver } from './testing.js';

const RELEASE = '0.3.0-3f2a9c1d-20261123T101500Z';
const SECRET = 'whsec-3f9c2a7d0b1e4c5f8a6d2e9b7c4f1a0d';

describe('notifications from the deployment event stream', () => {
  const receivers: Receiver[] = [];
  after(() => Promise.all(receivers.map((r) => r.close())));

  it('sends one stream to every sink of TK_NOTIFY, each with the events it chose, one deployment id for all', async () => {
    const [hook, phone, chat] = await Promise.all([startReceiver(), startReceiver(undefined, '/tk'), startReceiver()]);
    receivers.push(hook, phone, chat);
    const env = {
      [NOTIFY_ENV]: JSON.stringify({
        webhook: { url: hook.url, secret: SECRET, events: ['lock.acquired', 'release.failed'] },
        ntfy: { url: phone.url },
        slack: { url: chat.url, events: ['release.started', 'release.failed'] },
      }),
    };
    const { events } = recordedEvents();
    const notifications = startNotifications(events, { stack: 'dev', release: RELEASE }, env);
    assert.deepEqual(notifications.sinks, ['webhook', 'ntfy', 'slack']);
    events.emit('release.started', { release: RELEASE });
    events.emit('lock.acquired', { lock: 'tk-dev-deploy-lock' });
    events.emit('release.failed', { release: RELEASE, error: 'boom' }, 'error');
    assert.deepEqual(await notifications.flush(), { delivered: 5, failed: 0, abandoned: 0 });
    events.emit('rolled-back', { to: 'x' });

    assert.deepEqual(hook.requests.map((r) => JSON.parse(r.body).event).sort(), ['lock.acquired', 'release.failed']);
    assert.deepEqual(phone.requests.map((r) => r.headers.title), ['dev: release failed'], 'ntfy defaults: outcomes; nothing after flush');
    assert.equal(chat.requests.length, 2);
    const ids = new Set([...hook.requests.map((r) => JSON.parse(r.body).deploymentId), ...chat.requests.map((r) => (JSON.parse(r.body).blocks[1].elements[0].text as string).split(' ')[1])]);
    assert.deepEqual([...ids], [notifications.deploymentId]);
  });

  it('a sink that asks for rolled-back hears a successful rollback (a release of kind rollback), once', async () => {
    const phone = await startReceiver(undefined, '/tk');
    receivers.push(phone);
    const env = { [NOTIFY_ENV]: JSON.stringify({ ntfy: { url: phone.url, events: ['rolled-back'] } }) };
    const { events } = recordedEvents();
    const notifications = startNotifications(events, { stack: 'dev', release: RELEASE }, env);
    events.emit('release.succeeded', { kind: 'release', release: RELEASE });
    events.emit('release.succeeded', { kind: 'rollback', release: '0.2.9-aaaaaaaa' });
    // The up that records it (or any up with the same pin) finds that release live: no news.
    events.emit('release.succeeded', { kind: 'rollback', release: '0.2.9-aaaaaaaa', unchanged: true });
    await notifications.flush();
    assert.deepEqual(phone.requests.map((r) => r.headers.title), ['dev: release live (rollback)']);
  });

  it('keeps a hanging sink from delaying another: each delivery runs on its own', async () => {
    const [fast, stuck] = await Promise.all([startReceiver(), startReceiver(() => undefined)]);
    receivers.push(fast, stuck);
    const env = { [NOTIFY_ENV]: JSON.stringify({ attemptTimeoutMs: 2_000, deliveryTimeoutMs: 2_000, webhook: { url: fast.url, secret: SECRET }, slack: { url: stuck.url } }) };
    const { events } = recordedEvents();
    const notifications = startNotifications(events, { stack: 'dev', release: RELEASE }, env);
    const started = performance.now();
    events.emit('release.started', { release: RELEASE });
    await fast.waitFor(1, 1_500);
    assert.ok(performance.now() - started < 1_500, `the webhook got it in ${performance.now() - started} ms while Slack hangs`);
    assert.deepEqual(await notifications.flush(), { delivered: 1, failed: 1, abandoned: 0 });
  });

  it('does nothing and waits for nothing without TK_NOTIFY', async () => {
    const { events } = recordedEvents();
    const notifications = startNotifications(events, { stack: 'dev', release: RELEASE }, {});
    events.emit('release.failed', { release: RELEASE }, 'error');
    assert.deepEqual(notifications.sinks, []);
    assert.deepEqual(await notifications.flush(), { delivered: 0, failed: 0, abandoned: 0 });
  });
});
