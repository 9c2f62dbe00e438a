import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  DEPLOY_METRICS,
  DEPLOY_PHASES,
  initialDeployMetrics,
  parseDeployMetrics,
  recordReleaseFailed,
  recordReleaseLive,
  renderDeployMetrics,
  type DeployMetricsState,
} from './deploy-metrics.js';
import { MONITORING_TOOLS } from './testing.js';

const at = (iso: string) => new Date(iso);
const r1 = { release: '0.3.0-aaaaaaaa-20261201T100000Z-b1', version: '0.3.0', commit: 'aaaaaaaa', slot: 'blue' };
const r2 = { release: '0.4.0-bbbbbbbb-20261202T100000Z-b1', version: '0.4.0', commit: 'bbbbbbbb', slot: 'green' };

/** A stack's history: a release, a failed one, a release whose verification failed, a requested rollback. */
function history(): DeployMetricsState[] {
  const states = [initialDeployMetrics('prod')];
  const push = (next: (s: DeployMetricsState) => DeployMetricsState) => states.push(next(states[states.length - 1]!));
  push((s) => recordReleaseLive(s, { ...r1, phasesMs: { lock: 12, 'start-slot': 2100, 'health-gate': 3500, switch: 40 }, at: at('2026-12-01T10:01:00Z') }));
  push((s) => recordReleaseFailed(s, { release: r2.release, phasesMs: { lock: 10, 'start-slot': 2000, 'health-gate': 60_000 }, at: at('2026-12-02T10:01:00Z') }));
  push((s) => recordReleaseFailed(s, { release: r2.release, phasesMs: { lock: 9, 'health-gate': 3000, switch: 30, verify: 15_000 }, at: at('2026-12-02T11:00:00Z'), restoredRelease: r1.release }));
  push((s) => recordReleaseLive(s, { ...r2, phasesMs: { lock: 8, switch: 35, verify: 900 }, at: at('2026-12-02T12:00:00Z') }));
  push((s) => recordReleaseLive(s, { ...r1, rollback: true, phasesMs: { lock: 7, switch: 30, verify: 800 }, at: at('2026-12-02T12:30:00Z') }));
  return states;
}

function promtoolCheckMetrics(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(MONITORING_TOOLS.promtool, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk; });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
    child.stdin.end(text);
  });
}

describe('deployment metrics (the textfile the release pipeline writes)', () => {
  test('a stack that never released has every failure counter at 0 and no live release', () => {
    const text = renderDeployMetrics(initialDeployMetrics('dev'));
    for (const phase of DEPLOY_PHASES) assert.match(text, new RegExp(`^${DEPLOY_METRICS.failures.name}\\{stack="dev",phase="${phase}"\\} 0$`, 'm'));
    assert.doesNotMatch(text, new RegExp(DEPLOY_METRICS.releaseInfo.name + '\\{'));
    assert.match(text, /^trapperkeeper_deploy_last_success_timestamp_seconds\{stack="dev"\} 0$/m);
  });

  test('counters, timestamps and the last failure follow the history', () => {
    const states = history();
    const afterGateFailure = states[2]!;
    assert.equal(afterGateFailure.failures['health-gate'], 1);
    assert.deepEqual(afterGateFailure.lastFailure, { at: at('2026-12-02T10:01:00Z').getTime() / 1000, release: r2.release, phase: 'health-gate' });
    assert.deepEqual(afterGateFailure.live, r1, 'a failed release leaves the live release as it was');

    const afterVerifyFailure = states[3]!;
    assert.equal(afterVerifyFailure.failures.verify, 1);
    assert.equal(afterVerifyFailure.rollbacks.verify_failed, 1);
    assert.deepEqual(afterVerifyFailure.lastRollback, { at: at('2026-12-02T11:00:00Z').getTime() / 1000, fromRelease: r2.release, toRelease: r1.release, reason: 'verify_failed' });

    const final = states[5]!;
    assert.deepEqual(final.promotions, { release: 2, rollback: 1 });
    assert.deepEqual(final.rollbacks, { requested: 1, verify_failed: 1 });
    assert.deepEqual(final.lastRollback, { at: at('2026-12-02T12:30:00Z').getTime() / 1000, fromRelease: r2.release, toRelease: r1.release, reason: 'requested' });
    assert.deepEqual(final.live, r1);
    assert.deepEqual(final.phaseSeconds, { lock: 0.007, switch: 0.03, verify: 0.8 });
    assert.ok(final.lastSuccessAt > final.lastFailure!.at);
  });

  test('the file reads back as the state it was written from, at every step', () => {
    for (const state of history()) assert.deepEqual(parseDeployMetrics(renderDeployMetrics(state), state.stack), state);
  });

  test('label values with quotes, backslashes and newlines survive the file', () => {
    const odd = recordReleaseFailed(initialDeployMetrics('a"b\\c'), { release: 'x"y\nz', phasesMs: { 'new-phase': 5 }, at: at('2026-12-02T10:00:00Z') });
    assert.deepEqual(parseDeployMetrics(renderDeployMetrics(odd), 'a"b\\c'), odd);
    assert.equal(odd.failures['new-phase'], 1, 'a phase the list does not know yet is counted too');
  });

  test('series of another stack are not read as this stack', () => {
    const other = renderDeployMetrics(history()[5]!).replaceAll('stack="prod"', 'stack="staging"');
    assert.deepEqual(parseDeployMetrics(other, 'prod'), initialDeployMetrics('prod'));
  });

  test('promtool check metrics finds nothing to lint in the file', async () => {
    const result = await promtoolCheckMetrics(renderDeployMetrics(history()[5]!));
    assert.equal(result.code, 0, result.output);
    assert.equal(result.output.trim(), '');
  });
});
