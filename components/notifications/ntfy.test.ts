import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createNotifications } from './notifier.js';
import { ntfyStyle } from './ntfy.js';
import { notifySettingsSchema } from './settings.js';
import { recordedEvents, startReceiver, type Receiver } from './testing.js';

const RELEASE = '0.3.0-3f2a9c1d-20261123T101500Z';

describe('ntfy sink (a real receiver on 127.0.0.1)', () => {
  let topic: Receiver;
  after(() => topic.close());

  it('publishes outcomes to the topic URL with the priority and tags of the event: failures high, successes default', async () => {
    topic = await startReceiver(undefined, '/tk-dev-3f9c2a');
    const { events } = recordedEvents();
    const settings = notifySettingsSchema.parse({ ntfy: { url: topic.url, token: 'tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2' } });
    const notifications = createNotifications({ settings, stack: 'dev', release: RELEASE, logger: events.logger });
    events.subscribe((record) => notifications.send(record));

    events.emit('release.started', { stack: 'dev', release: RELEASE });
    events.emit('promoted', { slot: 'green', release: RELEASE });
    events.emit('release.succeeded', { release: RELEASE, slot: 'green', durationMs: 12_345 });
    events.emit('release.failed', { release: RELEASE, error: 'health gate timed out after 60 s', durationMs: 61_000 }, 'error');
    events.emit('rolled-back', { from: RELEASE, to: '0.2.9-aaaaaaaa', slot: 'blue' });
    events.emit('rolled-back', { warning: 'migrations ran since this release', snapshot: 'tk-dev-1.dump' }, 'warn');
    assert.deepEqual(await notifications.flush(), { delivered: 4, failed: 0, abandoned: 0 });

    const byTitle = Object.fromEntries(topic.requests.map((r) => [`${String(r.headers.title)} [${String(r.headers.priority)}] ${String(r.headers.tags)}`, r]));
    assert.deepEqual(Object.keys(byTitle).sort(), [
      'dev: release failed [4] rotating_light,x',
      'dev: release live [3] white_check_mark',
      'dev: rolled back [4] leftwards_arrow_with_hook',
      'dev: rolled back [4] leftwards_arrow_with_hook,warning',
    ], 'by default a phone hears outcomes only: not the start, not each step');
    const failed = byTitle['dev: release failed [4] rotating_light,x']!;
    assert.equal(failed.method, 'POST');
    assert.equal(failed.path, '/tk-dev-3f9c2a');
    assert.equal(failed.body, `release ${RELEASE} · error health gate timed out after 60 s · took 61 s`);
    assert.equal(failed.headers.authorization, 'Bearer tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2');
    assert.match(String(failed.headers['content-type']), /^text\/plain/);
    assert.equal(byTitle['dev: release live [3] white_check_mark']!.body, `release ${RELEASE} · slot green · took 12 s`);
  });

  it('raises any warning or error to high priority, whatever the event', () => {
    assert.deepEqual(ntfyStyle({ event: 'release.started', level: 'info', metadata: {} }), { priority: 2, tags: ['rocket'] });
    assert.deepEqual(ntfyStyle({ event: 'lock.released', level: 'warn', metadata: {} }), { priority: 4, tags: ['warning'] });
    assert.deepEqual(ntfyStyle({ event: 'snapshot.failed', level: 'error', metadata: {} }), { priority: 4, tags: ['x'] });
  });

  it('shows the outcome of a rollback (a release of kind rollback) as a rollback', () => {
    assert.deepEqual(ntfyStyle({ event: 'release.succeeded', level: 'info', metadata: { kind: 'rollback' } }), { priority: 4, tags: ['leftwards_arrow_with_hook'] });
    assert.deepEqual(ntfyStyle({ event: 'release.succeeded', level: 'info', metadata: { kind: 'release' } }), { priority: 3, tags: ['white_check_mark'] });
  });
});
