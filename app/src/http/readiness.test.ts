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

  it('many probes failing during one short stall do not make it unready; the same failures lasting minOutageMs do', () => {
    const time = clock();
    const readiness = new DatabaseReadiness({ failuresBeforeUnready: 3, minOutageMs: 3_000, graceMs: 10_000 }, time.now);
    readiness.succeeded();
    time.advance(1_200);
    for (let probe = 1; probe <= 8; probe++) {
      assert.deepEqual(readiness.failed(), { ready: true, tolerated: { consecutiveFailures: probe } }, `probe ${probe} of one 1.2 s stall`);
    }
    time.advance(1_900);
    assert.deepEqual(readiness.failed(), { ready: false, consecutiveFailures: 9 }, 'failing for over 3 s is an outage');
    assert.deepEqual(readiness.succeeded(), { ready: true });
  });
});
