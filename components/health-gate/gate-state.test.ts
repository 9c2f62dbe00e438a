import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { INITIAL_GATE_STATE, describeGateFailure, gatePassed, recordRound, type RoundResult } from './gate-state.js';

const ok = (check: string): RoundResult => ({ check, ok: true, detail: 'HTTP 200 release r1' });
const fail = (check: string, detail: string): RoundResult => ({ check, ok: false, detail });

function play(rounds: RoundResult[][]) {
  return rounds.reduce(recordRound, INITIAL_GATE_STATE);
}

describe('gate counting', () => {
  it('passes only after N consecutive rounds in which every check succeeded', () => {
    const states = [[ok('a'), ok('b')], [ok('a'), ok('b')], [ok('a'), ok('b')]].map((_, i, all) => play(all.slice(0, i + 1)));
    assert.deepEqual(states.map((s) => [s.consecutive, gatePassed(s, { successes: 3 })]), [[1, false], [2, false], [3, true]]);
  });

  it('a single failing check resets the count, and its answer is kept', () => {
    const state = play([
      [ok('a'), ok('b')],
      [ok('a'), ok('b')],
      [ok('a'), fail('b', 'HTTP 503 {"status":"unavailable"}')],
      [ok('a'), ok('b')],
    ]);
    assert.deepEqual(state, {
      rounds: 4,
      consecutive: 1,
      bestStreak: 2,
      lastFailures: { b: { round: 3, detail: 'HTTP 503 {"status":"unavailable"}' } },
    });
    assert.equal(gatePassed(state, { successes: 2 }), false);
  });

  it('keeps the last failing answer of each check', () => {
    const state = play([
      [fail('a', 'no HTTP response: ECONNREFUSED'), fail('b', 'gRPC UNAVAILABLE: 502')],
      [fail('a', 'HTTP 502, not the app\'s /readyz JSON: (empty body)'), ok('b')],
    ]);
    assert.deepEqual(state.lastFailures, {
      a: { round: 2, detail: 'HTTP 502, not the app\'s /readyz JSON: (empty body)' },
      b: { round: 1, detail: 'gRPC UNAVAILABLE: 502' },
    });
  });

  it('describes a failed gate with its thresholds and every check\'s last failure', () => {
    const state = play([[ok('a'), fail('b', 'HTTP 503 draining')], [ok('a'), ok('b')]]);
    assert.equal(
      describeGateFailure('The green slot (release r1)', ['a', 'b'], state, { successes: 3, intervalMs: 500, timeoutMs: 1000 }),
      [
        'The green slot (release r1) did not pass the health gate: 3 consecutive successes of every check were needed within 1000 ms (polled every 500 ms); best streak 1 in 2 rounds.',
        'Last failing responses:',
        '  - a: never failed',
        '  - b: HTTP 503 draining (round 1)',
      ].join('\n'),
    );
  });
});
