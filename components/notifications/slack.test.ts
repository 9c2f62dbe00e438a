import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { notificationOf } from './notification.js';
import { createNotifications } from './notifier.js';
import { slackMessage } from './slack.js';
import { notifySettingsSchema } from './settings.js';
import { recordedEvents, startReceiver, type Receiver } from './testing.js';

const RELEASE = '0.3.0-3f2a9c1d-20261123T101500Z';

describe('Slack-compatible sink (a real receiver on 127.0.0.1)', () => {
  let slack: Receiver;
  after(() => slack.close());

  it('posts an incoming-webhook message: text for notifications, a section and a context block, mrkdwn escaped', async () => {
    slack = await startReceiver(undefined, '/services/T000/B000/XXXX');
    const { events } = recordedEvents();
    const settings = notifySettingsSchema.parse({ slack: { url: slack.url, events: ['release.failed'] } });
    const notifications = createNotifications({ settings, stack: 'prod', release: RELEASE, logger: events.logger, deploymentId: 'd-1' });
    events.subscribe((record) => notifications.send(record));
    events.emit('release.started', { release: RELEASE });
    events.emit('release.failed', { release: RELEASE, error: 'GET /readyz <502> & gave up', durationMs: 61_000 }, 'error');
    assert.deepEqual(await notifications.flush(), { delivered: 1, failed: 0, abandoned: 0 });

    assert.equal(slack.requests.length, 1, 'only the events this sink chose');
    const [request] = slack.requests;
    assert.equal(request!.path, '/services/T000/B000/XXXX');
    assert.equal(request!.headers['content-type'], 'application/json');
    const message = JSON.parse(request!.body) as { text: string; blocks: { type: string; text?: { type: string; text: string }; elements?: { type: string; text: string }[] }[] };
    assert.equal(message.text, `prod: release failed: release ${RELEASE} · error GET /readyz &lt;502&gt; &amp; gave up · took 61 s`);
    assert.deepEqual(message.blocks.map((block) => block.type), ['section', 'context']);
    assert.deepEqual(message.blocks[0]!.text, {
      type: 'mrkdwn',
      text: `:rotating_light: *prod: release failed*\n*release*  \`${RELEASE}\`\n*error*  GET /readyz &lt;502&gt; &amp; gave up\n*took*  61 s`,
    });
    assert.equal(message.blocks[1]!.elements![0]!.type, 'mrkdwn');
    assert.match(message.blocks[1]!.elements![0]!.text, /^deployment d-1 · #1 · \d{4}-\d\d-\d\dT/);
  });

  it('says when the release was a rollback (the pipeline runs a rollback as a release of kind rollback)', () => {
    const record = { event: 'release.succeeded' as const, level: 'info' as const, message: 'release live', fields: { kind: 'rollback', release: '0.2.9-aaaaaaaa', slot: 'blue' }, time: new Date() };
    const message = slackMessage(notificationOf(record, { deploymentId: 'd-2', stack: 'prod', release: '0.2.9-aaaaaaaa' }, 1));
    assert.equal(message.text, 'prod: release live (rollback): release 0.2.9-aaaaaaaa · slot blue');
    assert.match((message.blocks[0] as { text: { text: string } }).text.text, /^:leftwards_arrow_with_hook: \*prod: release live \(rollback\)\*/);
  });
});
