import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseReadiness } from './readiness.js';

describe('DatabaseReadiness', () => {
  const clock = () => {
    let now = 0;
    return { now: () => now, advance: (ms: number) => (now += ms) };
  };

  it('is not ready before the database has answered once', () => {
    const time = clock();
    const readiness = new DatabaseReadiness({ failuresBeforeUnready: 3, graceMs: 10_000 }, time.now);
    assert.deepEqual(readiness.failed(), { ready: false, consecutiveFailures: 1 });
    assert.deepEqual(readiness.succeeded(), { ready: true });
  });

  it('tolerates a few slow or failed pings in a row after a success, then reports not ready', () => {
    const time = clock();
    const readiness = new DatabaseReadiness({ failuresBeforeUnready: 3, graceMs: 10_000 }, time.now);
    readiness.succeeded();
    time.advance(1000);
    assert.deepEqual(readiness.failed(), { ready: true, tolerated: { consecutiveFailures: 1 } });
    assert.deepEqual(readiness.failed(), { ready: true, tolerated: { consecutiveFailures: 2 } });
    assert.deepEqual(readiness.failed(), { ready: false, consecutiveFailures: 3 });
    assert.deepEqual(readiness.succeeded(), { ready: true }, 'one answer makes it ready again');
    assert.deepEqual(readiness.failed(), { ready: true, tolerated: { consecutiveFailures: 1 } }, 'the count starts over');
  });

  it('stops tolerating once the last success is older than the grace period', () => {
    const time = clock();
    const readiness = new DatabaseReadiness({ failuresBeforeUnready: 3, graceMs: 10_000 }, time.now);
    readiness.succeeded();
    time.advance(10_001);
    assert.deepEqual(readiness.failed(), { ready: false, consecutiveFailures: 1 });
  });
});
