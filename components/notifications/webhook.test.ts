import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, describe, it } from 'node:test';
import type { DeployEvents } from '../events/deploy-events.js';
import { createNotifications } from './notifier.js';
import type { NotifySettings } from './settings.js';
import { notifySettingsSchema } from './settings.js';
import { DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from './signature.js';
import { closedPortUrl, recordedEvents, startReceiver, type Receiver, type ReceivedRequest, type Respond } from './testing.js';

const SECRET = 'whsec-3f9c2a7d0b1e4c5f8a6d2e9b7c4f1a0d';
const CANARY = 'canary-db-password-9Xq';
const RELEASE = '0.3.0-3f2a9c1d-20261123T101500Z';

/** What one release emits, with a secret-bearing field the sinks must never send. */
function emitRelease(events: DeployEvents): void {
  events.emit('release.started', { stack: 'dev', release: RELEASE, image: `tk-dev/trapperkeeper:${RELEASE}` });
  events.emit('lock.acquired', { lock: 'tk-dev-deploy-lock', durationMs: 12 });
  events.emit('snapshot.taken', { snapshot: 'tk-dev-20261123T101501Z.dump', size: 4096, durationMs: 830 });
  events.emit('migrated', { ids: ['003_rules_index'], durationMs: 240, env: { TK_DATABASE_URL: `postgres://tk:${CANARY}@db/tk` } });
  events.emit('promoted', { slot: 'green', release: RELEASE, previous: '0.2.9-aaaaaaaa', durationMs: 2103 });
  events.emit('release.succeeded', { release: RELEASE, slot: 'green', databaseUrl: `postgres://tk:${CANARY}@db/tk`, durationMs: 12_345 });
  events.emit('lock.released', { lock: 'tk-dev-deploy-lock' });
}

function settings(url: string, overrides: Partial<NotifySettings> = {}): NotifySettings {
  return notifySettingsSchema.parse({ attemptTimeoutMs: 300, deliveryTimeoutMs: 1_500, webhook: { url, secret: SECRET }, ...overrides });
}

/** A receiver that verifies every delivery as the README tells receivers to, and refuses repeats of a delivery id. */
function verifying(then: Respond = (_r, _i, res) => res.writeHead(204).end()): Respond & { verdicts: string[] } {
  const seen = new Set<string>();
  const verdicts: string[] = [];
  const respond: Respond = (request, index, res) => {
    const check = verifyWebhookSignature(SECRET, request.headers, request.body);
    const id = String(request.headers[DELIVERY_HEADER]);
    if (!check.valid) {
      verdicts.push(`refused: ${check.reason}`);
      return void res.writeHead(401).end(check.reason);
    }
    if (seen.has(id)) {
      verdicts.push('refused: replayed delivery id');
      return void res.writeHead(409).end('replayed');
    }
    verdicts.push('valid');
    then(request, index, res);
    // Only a delivery that was accepted counts as seen: a retry after a 500 is the same delivery.
    if (res.statusCode < 300) seen.add(id);
  };
  return Object.assign(respond, { verdicts });
}

/** Sends a recorded request again, byte for byte, with `changes` to its headers or body. */
function resend(url: string, original: ReceivedRequest, changes: { body?: string; headers?: Record<string, string> } = {}): Promise<number> {
  const headers = { ...(original.headers as Record<string, string>), ...changes.headers };
  delete headers['content-length'];
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(changes.body ?? original.body);
  });
}

describe('webhook sink (real receivers on 127.0.0.1)', () => {
  const receivers: Receiver[] = [];
  const receiver = async (respond?: Respond) => {
    const started = await startReceiver(respond);
    receivers.push(started);
    return started;
  };
  after(() => Promise.all(receivers.map((r) => r.close())));

  it('posts each chosen event as signed JSON that a receiver verifies, with one deployment id, the release, the stack and no secret', async () => {
    const respond = verifying();
    const hook = await receiver(respond);
    const { events } = recordedEvents();
    const notifications = createNotifications({ settings: settings(hook.url), stack: 'dev', release: RELEASE, logger: events.logger });
    events.subscribe((record) => notifications.send(record));
    emitRelease(events);
    assert.deepEqual(await notifications.flush(), { delivered: 5, failed: 0, abandoned: 0 });

    assert.deepEqual(respond.verdicts, ['valid', 'valid', 'valid', 'valid', 'valid']);
    const bodies = hook.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>).sort((a, b) => Number(a.sequence) - Number(b.sequence));
    assert.deepEqual(
      bodies.map((b) => b.event),
      ['release.started', 'snapshot.taken', 'migrated', 'promoted', 'release.succeeded'],
      'the default webhook events: milestones, not lock chatter',
    );
    assert.deepEqual(bodies.map((b) => b.sequence), [1, 2, 3, 4, 5]);
    assert.equal(new Set(bodies.map((b) => b.deploymentId)).size, 1);
    assert.equal(bodies[0]!.deploymentId, notifications.deploymentId);
    assert.match(String(notifications.deploymentId), /^[0-9a-f-]{36}$/);
    for (const body of bodies) {
      assert.equal(body.stack, 'dev');
      assert.equal(body.release, RELEASE);
      assert.ok(!Number.isNaN(Date.parse(String(body.timestamp))));
      assert.equal(typeof body.metadata, 'object');
    }
    const promoted = bodies[3]!;
    assert.deepEqual(promoted.metadata, { slot: 'green', release: RELEASE, previous: '0.2.9-aaaaaaaa', durationMs: 2103 });
    assert.equal(promoted.level, 'info');
    assert.equal(promoted.message, 'traffic switched and verified');
    assert.deepEqual((bodies[2]!.metadata as Record<string, unknown>).env, '[redacted]');
    assert.equal((bodies[4]!.metadata as Record<string, unknown>).databaseUrl, '[redacted]');
    for (const r of hook.requests) {
      assert.ok(!r.body.includes(CANARY) && !JSON.stringify(r.headers).includes(CANARY), 'no secret leaves the process');
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(r.headers['x-tk-event'], JSON.parse(r.body).event);
      assert.match(String(r.headers[SIGNATURE_HEADER]), /^v1=[0-9a-f]{64}$/);
    }
  });

  it('gives receivers what they need to refuse a replay, an old timestamp, a tampered body and another secret', async () => {
    const respond = verifying();
    const hook = await receiver(respond);
    const { events } = recordedEvents();
    const notifications = createNotifications({ settings: settings(hook.url), stack: 'prod', release: RELEASE, logger: events.logger });
    events.subscribe((record) => notifications.send(record));
    events.emit('release.failed', { release: RELEASE, error: 'gate timed out' }, 'error');
    await notifications.flush();
    const original = hook.requests[0]!;
    assert.equal(verifyWebhookSignature(SECRET, original.headers, original.body).valid, true);

    // The same bytes again, at once: the signature holds, the delivery id was seen.
    assert.equal(await resend(hook.url, original), 409);
    // The same bytes ten minutes later: outside the tolerance.
    const later = verifyWebhookSignature(SECRET, original.headers, original.body, { now: new Date(Date.now() + 10 * 60_000) });
    assert.deepEqual(later.valid, false);
    assert.match(later.valid ? '' : later.reason, /outside ±300 s/);
    // A fresh timestamp on the old signature, a changed body, another key: all refused.
    assert.equal(await resend(hook.url, original, { headers: { [TIMESTAMP_HEADER]: String(Math.floor(Date.now() / 1000) + 1) } }), 401);
    assert.equal(await resend(hook.url, original, { body: original.body.replace('gate timed out', 'all good') }), 401);
    assert.equal(verifyWebhookSignature('another-secret-another-secret-0000', original.headers, original.body).valid, false);
    assert.equal(await resend(hook.url, original, { headers: { [SIGNATURE_HEADER]: 'v1=' } }), 401);
    assert.deepEqual(respond.verdicts, [
      'valid',
      'refused: replayed delivery id',
      'refused: signature does not match the body and timestamp',
      'refused: signature does not match the body and timestamp',
      'refused: signature does not match the body and timestamp',
    ]);
  });

  it('retries a receiver that answers 500 with growing pauses, re-signing each attempt, and delivers once it recovers', async () => {
    const respond = verifying((_request, index, res) => res.writeHead(index < 2 ? 500 : 200).end(index < 2 ? 'busy' : 'ok'));
    const hook = await receiver(respond);
    const { events, records } = recordedEvents();
    const notifications = createNotifications({ settings: settings(hook.url, { deliveryTimeoutMs: 5_000 }), stack: 'dev', release: RELEASE, logger: events.logger });
    events.subscribe((record) => notifications.send(record));
    events.emit('release.succeeded', { release: RELEASE, durationMs: 1 });
    assert.deepEqual(await notifications.flush(), { delivered: 1, failed: 0, abandoned: 0 });
    assert.equal(hook.requests.length, 3);
    assert.deepEqual(respond.verdicts, ['valid', 'valid', 'valid'], 'every attempt carries a valid signature');
    assert.equal(new Set(hook.requests.map((r) => r.headers[DELIVERY_HEADER])).size, 1, 'one delivery id across retries');
    const [first, second, third] = hook.requests.map((r) => r.at) as [number, number, number];
    // Backoff: the first pause is 125-250 ms, the second 250-500 ms.
    assert.ok(second - first >= 100, `first pause ${second - first} ms`);
    assert.ok(third - second >= 225, `second pause ${third - second} ms`);
    assert.equal(records().filter((r) => r.level === 40).length, 0, 'nothing to warn about');
  });

  it('gives up on a receiver that always fails within the delivery timeout, never delaying the release, and says so without the URL', async () => {
    const hook = await receiver((_request, _index, res) => res.writeHead(500).end('down'));
    const { events, records, text } = recordedEvents();
    const notifications = createNotifications({ settings: settings(hook.url, { deliveryTimeoutMs: 1_500 }), stack: 'dev', release: RELEASE, logger: events.logger });
    events.subscribe((record) => notifications.send(record));

    // The release: every emit returns at once and the release's own result is untouched.
    const release = async () => {
      const started = performance.now();
      emitRelease(events);
      events.emit('release.failed', { release: RELEASE, error: 'gate timed out' }, 'error');
      return { outcome: 'failed as it would without notifications', emitMs: performance.now() - started };
    };
    const { outcome, emitMs } = await release();
    assert.equal(outcome, 'failed as it would without notifications');
    assert.ok(emitMs < 250, `emitting took ${emitMs} ms`);

    const flushStarted = performance.now();
    const report = await notifications.flush();
    const flushMs = performance.now() - flushStarted;
    assert.deepEqual(report, { delivered: 0, failed: 6, abandoned: 0 });
    assert.ok(flushMs <= 1_500 + 500, `flush waited ${flushMs} ms, bounded by the delivery timeout`);
    assert.ok(hook.requests.length >= 6 * 2, `each notification was retried (${hook.requests.length} requests)`);

    const warnings = records().filter((r) => r.level === 40);
    assert.equal(warnings.length, 6);
    const started = warnings.find((w) => w.notification === 'release.started');
    assert.equal(started?.msg, 'webhook notification of release.started not delivered');
    for (const warning of warnings) assert.match(String(warning.reason), /^HTTP 500 \(down\) after \d+ attempts$/);
    assert.ok(!text().includes(hook.url) && !text().includes('/hook') && !text().includes(SECRET), 'no URL or secret in the log');
  });

  it('does not retry what another attempt cannot fix (a 4xx)', async () => {
    const hook = await receiver((_request, _index, res) => res.writeHead(404).end('no such hook'));
    const { events, records } = recordedEvents();
    const notifications = createNotifications({ settings: settings(hook.url), stack: 'dev', release: RELEASE, logger: events.logger });
    events.subscribe((record) => notifications.send(record));
    events.emit('release.failed', { release: RELEASE, error: 'x' }, 'error');
    assert.deepEqual(await notifications.flush(), { delivered: 0, failed: 1, abandoned: 0 });
    assert.equal(hook.requests.length, 1);
    assert.equal(records().find((r) => r.level === 40)?.reason, 'HTTP 404 (no such hook) after 1 attempt');
  });

  it('cuts an attempt to a receiver that never answers and stops within the delivery timeout', async () => {
    const hook = await receiver(() => undefined);
    const { events, records } = recordedEvents();
    const notifications = createNotifications({ settings: settings(hook.url, { attemptTimeoutMs: 400, deliveryTimeoutMs: 1_200 }), stack: 'dev', release: RELEASE, logger: events.logger });
    events.subscribe((record) => notifications.send(record));
    const started = performance.now();
    events.emit('release.failed', { release: RELEASE, error: 'x' }, 'error');
    assert.ok(performance.now() - started < 100, 'emit does not wait for the receiver');
    const report = await notifications.flush();
    const elapsed = performance.now() - started;
    assert.deepEqual(report, { delivered: 0, failed: 1, abandoned: 0 });
    assert.ok(elapsed >= 400 && elapsed <= 1_200 + 500, `gave up after ${elapsed} ms`);
    assert.ok(hook.requests.length >= 2, `a hung attempt is retried (${hook.requests.length} attempts)`);
    assert.match(String(records().find((r) => r.level === 40)?.reason), /^no answer within \d+ ms after \d+ attempts$/);
  });

  it('retries a refused connection and reports it by its code', async () => {
    const url = await closedPortUrl();
    const { events, records } = recordedEvents();
    const notifications = createNotifications({ settings: settings(url, { deliveryTimeoutMs: 800 }), stack: 'dev', release: RELEASE, logger: events.logger });
    events.subscribe((record) => notifications.send(record));
    events.emit('rolled-back', { from: 'b', to: 'a' });
    assert.deepEqual(await notifications.flush(), { delivered: 0, failed: 1, abandoned: 0 });
    assert.match(String(records().find((r) => r.level === 40)?.reason), /^ECONNREFUSED after [2-9]\d* attempts$/);
  });
});
