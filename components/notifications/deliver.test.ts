import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { BACKOFF, backoffDelay, deliver, isRetryableStatus, retryAfterMs } from './deliver.js';
import { startReceiver, type Receiver } from './testing.js';

describe('delivery', () => {
  it('backs off exponentially up to a cap, half of each pause fixed and half random', () => {
    const table = [1, 2, 3, 4, 5, 6, 10].map((failures) => [failures, backoffDelay(failures, 0), backoffDelay(failures, 1)]);
    assert.deepEqual(table, [
      [1, 125, 250],
      [2, 250, 500],
      [3, 500, 1000],
      [4, 1000, 2000],
      [5, 2000, 4000],
      [6, 2000, BACKOFF.capMs],
      [10, 2000, BACKOFF.capMs],
    ]);
  });

  it('retries what may pass later (timeouts, throttling, server errors), not what will not', () => {
    assert.deepEqual([408, 425, 429, 500, 502, 503, 504].filter(isRetryableStatus), [408, 425, 429, 500, 502, 503, 504]);
    assert.deepEqual([301, 400, 401, 403, 404, 410, 413].filter(isRetryableStatus), []);
  });

  it('reads Retry-After as seconds or as a date', () => {
    assert.equal(retryAfterMs('2'), 2_000);
    assert.equal(retryAfterMs('Wed, 02 Dec 2026 10:15:05 GMT', Date.parse('2026-12-02T10:15:02Z')), 3_000);
    assert.equal(retryAfterMs('soon'), undefined);
    assert.equal(retryAfterMs(undefined), undefined);
  });

  describe('against receivers that throttle', () => {
    const receivers: Receiver[] = [];
    after(() => Promise.all(receivers.map((r) => r.close())));
    const request = () => ({ headers: { 'content-type': 'text/plain' }, body: 'x' });
    const signal = new AbortController().signal;

    it("waits as long as the receiver's Retry-After asks when that fits in the delivery timeout", async () => {
      const receiver = await startReceiver((_request, index, res) => (index === 0 ? res.writeHead(429, { 'retry-after': '1' }).end() : res.writeHead(200).end()));
      receivers.push(receiver);
      const result = await deliver(receiver.url, request, { attemptTimeoutMs: 500, deadline: Date.now() + 3_000, signal });
      assert.deepEqual(result, { delivered: true, attempts: 2 });
      const [first, second] = receiver.requests.map((r) => r.at) as [number, number];
      assert.ok(second - first >= 950, `waited ${second - first} ms`);
    });

    it('gives up at once when the Retry-After asked for is past the delivery timeout', async () => {
      const receiver = await startReceiver((_request, _index, res) => res.writeHead(503, { 'retry-after': '30' }).end('maintenance'));
      receivers.push(receiver);
      const started = performance.now();
      const result = await deliver(receiver.url, request, { attemptTimeoutMs: 500, deadline: Date.now() + 2_000, signal });
      assert.deepEqual(result, { delivered: false, attempts: 1, reason: 'HTTP 503 (maintenance)' });
      assert.ok(performance.now() - started < 500, 'no pointless wait');
    });
  });
});
