import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeployError } from '../errors.js';
import type { HealthCheck } from './checks.js';
import type { CheckOutcome } from './gate-state.js';
import { runHealthGate } from './run-health-gate.js';

/** A check that answers from a script, then repeats its last answer. */
function scripted(name: string, answers: (CheckOutcome | Error)[]): HealthCheck & { calls: number } {
  const check = {
    name,
    calls: 0,
    async run() {
      const answer = answers[Math.min(check.calls, answers.length - 1)]!;
      check.calls += 1;
      if (answer instanceof Error) throw answer;
      return answer;
    },
    close() {},
  };
  return check;
}

const up: CheckOutcome = { ok: true, detail: 'HTTP 200 release r1' };
const down = (detail: string): CheckOutcome => ({ ok: false, detail });
const options = { successes: 3, intervalMs: 5, timeoutMs: 2000, subject: 'The green slot (release r1)', fix: 'docker logs tk-green-web-ui' };

describe('runHealthGate', () => {
  it('passes after N consecutive successes of every check, and not before', async () => {
    const web = scripted('web', [down('HTTP 502'), up]);
    const grpc = scripted('grpc', [up, up, down('gRPC UNAVAILABLE'), up]);
    const report = await runHealthGate([web, grpc], options);
    // Round 1 fails (web), round 3 fails (grpc): rounds 4, 5 and 6 are the streak.
    assert.equal(report.state.rounds, 6);
    assert.equal(report.state.consecutive, 3);
    assert.equal(web.calls, 6);
    assert.equal(report.roundDurationsMs.length, 6, 'one duration per round');
  });

  it('sees a starting slot ready within a short poll, then keeps the successes intervalMs apart', async () => {
    const readyAt = performance.now() + 50;
    const passes: number[] = [];
    const starting: HealthCheck = {
      name: 'web-ui /readyz',
      async run() {
        if (performance.now() < readyAt) return down('connection refused');
        passes.push(performance.now());
        return up;
      },
      close() {},
    };
    const report = await runHealthGate([starting], { ...options, intervalMs: 400, timeoutMs: 5000 });
    assert.equal(report.state.consecutive, 3);
    // Ready 50 ms in: the first pass comes within a short poll of it, not at the next 400 ms round.
    assert.ok(passes[0]! - readyAt < 250, `first pass ${Math.round(passes[0]! - readyAt)} ms after the slot was ready`);
    for (let i = 1; i < passes.length; i += 1) {
      assert.ok(passes[i]! - passes[i - 1]! >= 395, `successes ${Math.round(passes[i]! - passes[i - 1]!)} ms apart, at least intervalMs`);
    }
  });

  it('times out with the last failing response of each check and the fix', async () => {
    const web = scripted('web-ui /readyz', [down('HTTP 502, not the app\'s /readyz JSON: (empty body)')]);
    const grpc = scripted('sensor-api gRPC health', [down('gRPC UNAVAILABLE: Received HTTP status code 502')]);
    await assert.rejects(runHealthGate([web, grpc], { ...options, intervalMs: 20, timeoutMs: 100 }), (error: unknown) => {
      assert.ok(error instanceof DeployError);
      assert.match(error.message, /^The green slot \(release r1\) did not pass the health gate: 3 consecutive successes/);
      assert.match(error.message, /- web-ui \/readyz: HTTP 502, not the app's \/readyz JSON: \(empty body\)/);
      assert.match(error.message, /- sensor-api gRPC health: gRPC UNAVAILABLE: Received HTTP status code 502/);
      assert.equal(error.fix, 'docker logs tk-green-web-ui');
      return true;
    });
  });

  it('never passes a slot that fails every few rounds, however long it runs', async () => {
    const flaky = scripted('flaky', [up, up, down('HTTP 503'), up, up, down('HTTP 503'), up, up, down('HTTP 503'), up, up, down('HTTP 503')]);
    await assert.rejects(runHealthGate([flaky], { ...options, intervalMs: 1, timeoutMs: 150 }), /best streak 2/);
  });

  it('counts a probe that throws as a failure', async () => {
    const broken = scripted('broken', [new Error('socket hang up')]);
    await assert.rejects(runHealthGate([broken], { ...options, timeoutMs: 30 }), /broken: probe failed: socket hang up/);
  });

  it('hands every probe a whole number of milliseconds, also when the remaining time is fractional', async () => {
    const timeouts: number[] = [];
    // The remaining time (deadline minus a performance.now() reading) is what limits each probe here.
    const check: HealthCheck = {
      name: 'web-ui /readyz',
      async run(timeoutMs) {
        timeouts.push(timeoutMs);
        AbortSignal.timeout(timeoutMs); // the timer API that refused a fractional delay in a real release
        return down('HTTP 503');
      },
      close() {},
    };
    await assert.rejects(
      runHealthGate([check], { ...options, intervalMs: 7, timeoutMs: 333.7, requestTimeoutMs: 10_000 }),
      /web-ui \/readyz: HTTP 503/,
    );
    assert.ok(timeouts.length > 3, `several rounds ran (${timeouts.length})`);
    for (const timeoutMs of timeouts) assert.ok(Number.isInteger(timeoutMs), `${timeoutMs} is a whole number of ms`);
  });
});
