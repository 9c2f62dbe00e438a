import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { peerAddress, RefusalLimiter, type RefusalSummary } from './refusal-log.js';

function limiter(limits = { perPeer: 2, perKind: 5, intervalMs: 1000 }) {
  let now = 0;
  const summaries: RefusalSummary[] = [];
  const instance = new RefusalLimiter(limits, () => now);
  return {
    admit: (peer: string, kind = 'refused') => instance.admit(kind, peer, (summary) => summaries.push(summary)),
    flush: () => instance.flush(),
    advance: (ms: number) => { now += ms; },
    summaries,
  };
}

describe('RefusalLimiter', () => {
  test('each peer gets perPeer lines per interval; the rest is counted in one summary with the top peers', () => {
    const l = limiter();
    const written = ['a', 'a', 'a', 'b', 'a', 'b', 'b'].map((peer) => l.admit(peer));
    assert.deepEqual(written, [true, true, false, true, false, true, false]);
    l.flush();
    assert.deepEqual(l.summaries, [{
      event: 'refused', suppressed: 3, intervalSeconds: 0,
      topPeers: [{ peer: 'a', suppressed: 2 }, { peer: 'b', suppressed: 1 }],
    }]);
  });

  test('all peers together get perKind lines, so many addresses cannot flood the log either', () => {
    const l = limiter();
    const written = Array.from({ length: 100 }, (_, i) => l.admit(`10.0.0.${i}`)).filter(Boolean).length;
    assert.equal(written, 5);
    l.flush();
    assert.equal(l.summaries[0]?.suppressed, 95);
    assert.deepEqual(l.summaries[0]?.topPeers, [], 'peers never written are not tracked (memory stays bounded)');
  });

  test('kinds are counted apart, and a new interval starts afresh after the summary', () => {
    const l = limiter();
    assert.deepEqual([l.admit('a'), l.admit('a'), l.admit('a'), l.admit('a', 'other')], [true, true, false, true]);
    l.advance(1000);
    assert.equal(l.admit('a'), true, 'a new interval');
    assert.deepEqual(l.summaries.map((s) => [s.event, s.suppressed, s.intervalSeconds]), [['refused', 1, 1]]);
  });

  test('an interval that held nothing back writes no summary', () => {
    const l = limiter();
    l.admit('a');
    l.flush();
    assert.deepEqual(l.summaries, []);
  });
});

test('peerAddress drops the port of gRPC peers, so one client is one peer whatever its connection', () => {
  assert.equal(peerAddress('10.1.2.3:53412'), '10.1.2.3');
  assert.equal(peerAddress('::1:53412'), '::1');
  assert.equal(peerAddress('::ffff:127.0.0.1:53412'), '::ffff:127.0.0.1');
  assert.equal(peerAddress('ipv4:10.1.2.3:53412'), '10.1.2.3');
  assert.equal(peerAddress('ipv6:[::1]:53412'), '::1');
  assert.equal(peerAddress('ipv6:[2001:db8::7]:1'), '2001:db8::7');
  assert.equal(peerAddress('127.0.0.1'), '127.0.0.1');
  assert.equal(peerAddress('2001:db8::7'), '2001:db8::7');
  assert.equal(peerAddress('unix:/run/tk.sock'), 'unix:/run/tk.sock');
  assert.equal(peerAddress(undefined), 'unknown');
});
