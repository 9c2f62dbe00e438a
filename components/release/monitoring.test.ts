import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createDeployEvents, type DeployEvents } from '../events/deploy-events.js';
import { DEPLOY_PHASES, parseDeployMetrics } from '../monitoring/deploy-metrics.js';
import { exampleReleasePlan, MemoryBackend } from './memory-backend.js';
import { runRelease, type ReleaseContext } from './pipeline.js';

const R1 = '1.0.0-aaaaaaa-20261201T100000Z-b00000001';
const R2 = '1.1.0-bbbbbbb-20261201T110000Z-b00000001';
const AT = new Date('2026-12-01T12:00:00Z');

function recordedEvents(): { events: DeployEvents; records(): Record<string, unknown>[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  const events = createDeployEvents({ format: 'json', destination, jsonFile: '' });
  return { events, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

function context(events: DeployEvents, extra: Partial<ReleaseContext> = {}): ReleaseContext {
  return { events, secrets: { TK_DATABASE_URL: 'postgres://x' }, now: () => AT, ...extra };
}

async function withR1Live(): Promise<MemoryBackend> {
  const backend = new MemoryBackend({ monitoring: true });
  await runRelease(exampleReleasePlan(R1), backend, context(recordedEvents().events));
  backend.scrapeHistory.length = 0;
  return backend;
}

const metrics = (backend: MemoryBackend) => parseDeployMetrics(backend.deployMetricsText, 'test');

describe('the release pipeline tells monitoring what it does', () => {
  it('Prometheus scrapes the candidate beside the live slot while a release runs, then the new live slot alone', async () => {
    const backend = await withR1Live();
    await runRelease(exampleReleasePlan(R2), backend, context(recordedEvents().events));
    assert.deepEqual(backend.scrapeHistory, [
      [{ slot: 'blue', role: 'live' }, { slot: 'green', role: 'candidate' }],
      [{ slot: 'green', role: 'live' }],
    ]);
  });

  it('a release that goes live is the live release of the deploy metrics, with its phase durations under the phase names alerts and dashboards use', async () => {
    const backend = await withR1Live();
    backend.pendingMigrations = ['0007_add_index'];
    const outcome = await runRelease(exampleReleasePlan(R2), backend, context(recordedEvents().events));
    const state = metrics(backend);
    assert.deepEqual(state.live, { release: R2, version: '1.1.0', commit: '0123abcd', slot: 'green' });
    assert.deepEqual(state.promotions, { release: 2, rollback: 0 });
    assert.equal(state.lastSuccessAt, AT.getTime() / 1000);
    assert.deepEqual(Object.keys(state.phaseSeconds), Object.keys(outcome.phases));
    for (const phase of Object.keys(outcome.phases)) assert.ok((DEPLOY_PHASES as readonly string[]).includes(phase), `${phase} is one of DEPLOY_PHASES`);
    for (const phase of ['lock', 'read-live', 'check-migrations', 'snapshot', 'migrate', 'start-slot', 'stage', 'health-gate', 'switch', 'verify', 'drain', 'prune']) {
      assert.ok(phase in state.phaseSeconds, `${phase} timed`);
    }
    assert.deepEqual(Object.values(state.failures).filter((n) => n > 0), []);
  });

  it('a failed health gate counts a failure in health-gate, names the release, and puts the scrape list back to the live slot', async () => {
    const backend = await withR1Live();
    backend.stagingHealth = () => ({ ok: false, detail: 'HTTP 503' });
    await assert.rejects(runRelease(exampleReleasePlan(R2), backend, context(recordedEvents().events)), /health gate/);
    const state = metrics(backend);
    assert.equal(state.failures['health-gate'], 1);
    assert.deepEqual(state.lastFailure, { at: AT.getTime() / 1000, release: R2, phase: 'health-gate' });
    assert.equal(state.live?.release, R1, 'R1 still the live release');
    assert.deepEqual(backend.scrapeHistory.at(-1), [{ slot: 'blue', role: 'live' }]);
    assert.equal(state.lastRollback, null, 'traffic never moved: no rollback');
  });

  it('a slot that fails to start counts against start-slot, though staging ran beside it and ended later', async () => {
    const backend = await withR1Live();
    backend.failAt.set('start', new Error('container exited'));
    backend.onStep = async (step) => {
      if (step === 'stage') await new Promise((resolve) => setTimeout(resolve, 20));
    };
    await assert.rejects(runRelease(exampleReleasePlan(R2), backend, context(recordedEvents().events)), /container exited/);
    assert.equal(metrics(backend).lastFailure?.phase, 'start-slot');
  });

  it('a failed verification is a failure in verify and a rollback (verify_failed) from the new release to the one restored', async () => {
    const backend = await withR1Live();
    backend.publicHealth = () => ({ ok: false, detail: 'HTTP 502' });
    await assert.rejects(runRelease(exampleReleasePlan(R2), backend, context(recordedEvents().events)), /previous routing is back/);
    const state = metrics(backend);
    assert.equal(state.failures.verify, 1);
    assert.deepEqual(state.rollbacks, { requested: 0, verify_failed: 1 });
    assert.deepEqual(state.lastRollback, { at: AT.getTime() / 1000, fromRelease: R2, toRelease: R1, reason: 'verify_failed' });
  });

  it('a requested rollback counts as a rollback promotion, from the release that served to the one put back', async () => {
    const backend = await withR1Live();
    await runRelease(exampleReleasePlan(R2), backend, context(recordedEvents().events));
    await runRelease(exampleReleasePlan(R2), backend, context(recordedEvents().events, { rollback: {} }));
    const state = metrics(backend);
    assert.deepEqual(state.promotions, { release: 2, rollback: 1 });
    assert.equal(state.live?.release, R1);
    assert.deepEqual(state.lastRollback, { at: AT.getTime() / 1000, fromRelease: R2, toRelease: R1, reason: 'requested' });
  });

  it('a lock held by another release is a failure in the lock phase', async () => {
    const backend = await withR1Live();
    backend.lockHeld = true;
    await assert.rejects(runRelease(exampleReleasePlan(R2), backend, context(recordedEvents().events)), /holds the deploy lock/);
    assert.equal(metrics(backend).failures.lock, 1);
  });

  it('monitoring that cannot be written never fails a release: a monitoring.failed warning, and the release is live', async () => {
    const backend = await withR1Live();
    backend.failAt.set('monitoring', new Error('node-exporter container is gone'));
    const log = recordedEvents();
    const outcome = await runRelease(exampleReleasePlan(R2), backend, context(log.events));
    assert.equal(outcome.liveRelease, R2);
    const warnings = log.records().filter((r) => r.event === 'monitoring.failed');
    assert.ok(warnings.length >= 2, 'scrape list and deploy metrics');
    assert.ok(warnings.every((r) => r.level === 40 && /node-exporter container is gone/.test(String(r.error))));
    assert.equal(metrics(backend).live?.release, R1, 'the file still says what it said');
  });

  it('a target without monitoring is never asked', async () => {
    const backend = new MemoryBackend();
    await runRelease(exampleReleasePlan(R1), backend, context(recordedEvents().events));
    assert.equal(backend.monitoring, undefined);
    assert.ok(!backend.calls.some((call) => call.startsWith('monitoring')));
  });
});
