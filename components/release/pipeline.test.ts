import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createDeployEvents, type DeployEvents } from '../events/deploy-events.js';
import { exampleReleasePlan, MemoryBackend } from './memory-backend.js';
import { runRelease, type ReleaseContext } from './pipeline.js';
import type { ReleasePlan } from './plan.js';

const R1 = '1.0.0-aaaaaaa-20261201T100000Z-b00000001';
const R2 = '1.1.0-bbbbbbb-20261201T110000Z-b00000001';

function recordedEvents(): { events: DeployEvents; names(): string[]; records(): Record<string, unknown>[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  const events = createDeployEvents({ format: 'json', destination, jsonFile: '' });
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { events, records, names: () => records().map((r) => String(r.event)) };
}

function context(events: DeployEvents, extra: Partial<ReleaseContext> = {}): ReleaseContext {
  return { events, secrets: { TK_DATABASE_URL: 'postgres://x' }, ...extra };
}

/** A backend with R1 live in blue, R2 parked in green... or whatever `releases` says, released for real. */
async function deployed(backend: MemoryBackend, ...plans: ReleasePlan[]): Promise<void> {
  for (const plan of plans) await runRelease(plan, backend, context(recordedEvents().events));
  backend.calls.length = 0;
}

const RELEASE_SEQUENCE = ['release.started', 'lock.acquired', 'slot.started', 'gate.passed', 'promoted', 'drained', 'pruned', 'release.succeeded', 'lock.released'];

describe('runRelease on the in-memory target (ordering and failure paths)', () => {
  it('a first release: lock, read, migrations checked, blue started and staged, gated, switched, verified; no drain', async () => {
    const backend = new MemoryBackend();
    const log = recordedEvents();
    const outcome = await runRelease(exampleReleasePlan(R1), backend, context(log.events));
    assert.deepEqual(backend.calls, ['lock', 'read', 'migration-status', 'start blue ' + R1, 'stage blue', 'gate closed', 'switch blue', 'prune', 'retention', 'unlock']);
    assert.deepEqual(log.names(), ['release.started', 'lock.acquired', 'slot.started', 'gate.passed', 'promoted', 'pruned', 'release.succeeded', 'lock.released']);
    assert.equal(outcome.liveSlot, 'blue');
    assert.equal(outcome.liveRelease, R1);
    assert.equal(outcome.previousRelease, null);
    assert.deepEqual(backend.routingState.live, { slot: 'blue', releaseId: R1 });
  });

  it('pending migrations: a verified snapshot, then the migrations, before the new slot starts', async () => {
    const backend = new MemoryBackend();
    await deployed(backend, exampleReleasePlan(R1));
    backend.pendingMigrations = ['0007_add_index'];
    const log = recordedEvents();
    const outcome = await runRelease(exampleReleasePlan(R2), backend, context(log.events));
    assert.deepEqual(backend.calls.slice(0, 5), ['lock', 'read', 'migration-status', 'snapshot', 'migrate']);
    assert.deepEqual(log.names(), ['release.started', 'lock.acquired', 'snapshot.taken', 'migrated', ...RELEASE_SEQUENCE.slice(2)]);
    assert.deepEqual(outcome.migrated, ['0007_add_index']);
    assert.equal(outcome.snapshot, 'trapperkeeper-1.dump');
    assert.equal(outcome.latestSnapshot, 'trapperkeeper-1.dump');
    assert.deepEqual(backend.slotState.get('blue')?.running, true, 'the old slot stays up, unrouted (release.standby=running)');
    assert.ok(backend.calls.includes('park blue running'));
  });

  it('standby stopped: the old slot is drained and stopped after the switch', async () => {
    const backend = new MemoryBackend();
    const stopped = (id: string) => exampleReleasePlan(id, { standby: 'stopped' });
    await deployed(backend, stopped(R1));
    await runRelease(stopped(R2), backend, context(recordedEvents().events));
    assert.ok(backend.calls.includes('park blue stopped'));
    assert.equal(backend.slotState.get('blue')?.running, false);
  });

  it('a rollback emits the same events as a release, minus snapshot, migrate and prune, through the same promotion', async () => {
    const backend = new MemoryBackend();
    await deployed(backend, exampleReleasePlan(R1));
    backend.pendingMigrations = ['0007_add_index'];
    const release = recordedEvents();
    await runRelease(exampleReleasePlan(R2), backend, context(release.events));
    backend.calls.length = 0;
    const rollback = recordedEvents();
    const outcome = await runRelease(exampleReleasePlan(R2), backend, context(rollback.events, { rollback: {} }));
    assert.deepEqual(rollback.names(), release.names().filter((name) => !['snapshot.taken', 'migrated', 'pruned'].includes(name)));
    assert.ok(rollback.records().filter((r) => r.event !== 'lock.acquired' && r.event !== 'lock.released').every((r) => r.kind === 'rollback'));
    assert.equal(outcome.liveRelease, R1);
    assert.equal(outcome.previousRelease, R2);
    assert.ok(backend.calls.includes('resume blue ' + R1), 'the parked slot is resumed, not rebuilt');
    assert.ok(!backend.calls.includes('stage blue'), 'the staging route already reaches the previous release after the switch');
    assert.ok(!backend.calls.includes('prune'), 'a rollback adds no image: nothing to prune');
    assert.ok(!backend.calls.includes('migrate'));
    assert.match(outcome.migrationWarning ?? '', /restore trapperkeeper-1\.dump/, 'the rollback crossed a migration and says how to restore');
  });

  it('a rollback to a slot that kept running passes the gate on one round of every check; one that must start again needs the whole streak', async () => {
    const gateRounds = async (standby: 'running' | 'stopped') => {
      const backend = new MemoryBackend();
      const plan = (id: string) => exampleReleasePlan(id, { standby });
      await deployed(backend, plan(R1), plan(R2));
      const log = recordedEvents();
      await runRelease(plan(R2), backend, context(log.events, { rollback: {} }));
      assert.deepEqual(backend.routingState.live, { slot: 'blue', releaseId: R1 });
      const passed = log.records().find((r) => r.event === 'gate.passed')!;
      return { rounds: passed.rounds, warm: passed.warm };
    };
    assert.deepEqual(await gateRounds('running'), { rounds: 1, warm: true });
    assert.deepEqual(await gateRounds('stopped'), { rounds: exampleReleasePlan(R1).gate.successes, warm: false });
  });

  it('the events keep how the verification went: its rounds, their probe times and what a failing round answered', async () => {
    const backend = new MemoryBackend();
    await deployed(backend, exampleReleasePlan(R1));
    backend.publicHealth = (round, plan) =>
      round <= 2 ? { ok: false, detail: `HTTP 200 release ${R1} (expected ${plan.image.releaseId})` } : { ok: true, detail: `HTTP 200 release ${plan.image.releaseId}` };
    const log = recordedEvents();
    await runRelease(exampleReleasePlan(R2), backend, context(log.events));
    const promoted = log.records().find((r) => r.event === 'promoted')!;
    const successes = exampleReleasePlan(R2).gate.successes;
    const verification = promoted.verification as { count: number; roundsMs: number[]; lastFailures: Record<string, { round: number; detail: string }> };
    assert.equal(verification.count, 2 + successes);
    assert.equal(verification.roundsMs.length, 2 + successes);
    assert.deepEqual(verification.lastFailures, { 'public health': { round: 2, detail: `HTTP 200 release ${R1} (expected ${R2})` } });
    const passed = log.records().find((r) => r.event === 'gate.passed')!;
    assert.deepEqual(passed.lastFailures, {}, 'a gate that passed at once saw no failure');
  });

  it('a pinned rollback to the live release changes nothing', async () => {
    const backend = new MemoryBackend();
    await deployed(backend, exampleReleasePlan(R1), exampleReleasePlan(R2));
    const log = recordedEvents();
    const outcome = await runRelease(exampleReleasePlan(R2), backend, context(log.events, { rollback: { to: R2, pinned: true } }));
    assert.equal(outcome.changed, false);
    assert.equal(outcome.liveRelease, R2);
    assert.equal(outcome.previousRelease, R1);
    assert.deepEqual(backend.calls, ['lock', 'read', 'unlock']);
  });

  it('a rollback to a named kept image starts it fresh with the live release\'s config', async () => {
    const backend = new MemoryBackend({ images: [exampleReleasePlan(R1).image.ref, exampleReleasePlan(R2).image.ref] });
    await deployed(backend, exampleReleasePlan(R1), exampleReleasePlan(R2));
    backend.slotState.delete('blue');
    const outcome = await runRelease(exampleReleasePlan(R2), backend, context(recordedEvents().events, { rollback: { to: R1, pinned: true } }));
    assert.ok(backend.calls.includes('start blue ' + R1));
    assert.equal(outcome.liveRelease, R1);
  });

  it('refuses a rollback to an image no longer kept, and one with nothing parked', async () => {
    const backend = new MemoryBackend({ images: [exampleReleasePlan(R2).image.ref, exampleReleasePlan(R1).image.ref] });
    await deployed(backend, exampleReleasePlan(R1), exampleReleasePlan(R2));
    backend.slotState.delete('blue');
    backend.keptImages.delete(exampleReleasePlan(R1).image.ref);
    await assert.rejects(runRelease(exampleReleasePlan(R2), backend, context(recordedEvents().events, { rollback: { to: R1 } })), /no longer kept/);
    await assert.rejects(runRelease(exampleReleasePlan(R2), backend, context(recordedEvents().events, { rollback: {} })), /Nothing is parked in the blue slot/);
    assert.equal(backend.lockedNow, false);
  });

  const failures: { name: string; arrange(backend: MemoryBackend): void; error: RegExp; slotAfter: 'removed' | 'absent' | 'kept' }[] = [
    { name: 'the lock is held', arrange: (b) => (b.lockHeld = true), error: /holds the deploy lock/, slotAfter: 'absent' },
    { name: 'the snapshot fails', arrange: (b) => { b.pendingMigrations = ['0007']; b.failAt.set('snapshot', new Error('pg_dump failed')); }, error: /pg_dump failed/, slotAfter: 'absent' },
    { name: 'a migration fails', arrange: (b) => { b.pendingMigrations = ['0007']; b.failAt.set('migrate', new Error('migration 0007 failed')); }, error: /0007 failed/, slotAfter: 'absent' },
    { name: 'an earlier migration failed', arrange: (b) => (b.failedMigrations = ['0006']), error: /0006 failed in an earlier run/, slotAfter: 'absent' },
    { name: 'the slot does not start', arrange: (b) => b.failAt.set('start', new Error('container exited')), error: /container exited/, slotAfter: 'removed' },
    { name: 'the gate never passes', arrange: (b) => (b.stagingHealth = () => ({ ok: false, detail: 'HTTP 503' })), error: /did not pass the health gate[\s\S]*HTTP 503/, slotAfter: 'removed' },
    {
      name: 'the gate flaps (never two successes in a row)',
      arrange: (b) => (b.stagingHealth = (round) => (round % 2 === 0 ? { ok: true, detail: 'ok' } : { ok: false, detail: 'HTTP 503' })),
      error: /best streak 1/,
      slotAfter: 'removed',
    },
    { name: 'the switch fails', arrange: (b) => b.failAt.set('switch', new Error('rename failed')), error: /rename failed/, slotAfter: 'kept' },
    { name: 'verification fails', arrange: (b) => (b.publicHealth = () => ({ ok: false, detail: 'HTTP 502' })), error: /did not report it[\s\S]*previous routing is back/, slotAfter: 'removed' },
    { name: 'the drain fails', arrange: (b) => b.failAt.set('park', new Error('stop timed out')), error: /stop timed out/, slotAfter: 'kept' },
  ];

  for (const failure of failures) {
    it(`${failure.name}: the release fails, says why, releases the lock, and users stay on a verified release`, async () => {
      const backend = new MemoryBackend();
      await deployed(backend, exampleReleasePlan(R1));
      failure.arrange(backend);
      const log = recordedEvents();
      await assert.rejects(runRelease(exampleReleasePlan(R2), backend, context(log.events)), failure.error);
      assert.equal(backend.lockedNow, false, 'the lock is released');
      const failed = log.records().find((r) => r.event === 'release.failed');
      assert.ok(failed, 'release.failed is emitted');
      assert.match(String(failed.error), failure.error);
      if (failure.name === 'the drain fails') {
        assert.equal(backend.routingState.live?.releaseId, R2, 'a verified switch stays');
      } else if (failure.name === 'the switch fails') {
        assert.equal(backend.routingState.live?.releaseId, R1);
      } else {
        assert.equal(backend.routingState.live?.releaseId, R1, 'the live release keeps serving');
      }
      if (failure.slotAfter === 'removed') assert.equal(backend.slotState.has('green'), false, 'a failed slot is not left for a rollback');
      if (failure.slotAfter === 'absent') assert.ok(!backend.calls.some((c) => c.startsWith('start')), 'nothing started');
    });
  }

  it('when the release fails and the lock will not let go either, the release\'s own error is what a person sees', async () => {
    const backend = new MemoryBackend();
    backend.failAt.set('start', new Error('container exited'));
    backend.failAt.set('unlock', new Error('lock container gone'));
    const log = recordedEvents();
    await assert.rejects(runRelease(exampleReleasePlan(R1), backend, context(log.events)), /container exited/);
    assert.ok(log.records().some((r) => r.event === 'lock.release-failed' && /lock container gone/.test(String(r.error))));
    await assert.rejects(runRelease(exampleReleasePlan(R1), backend, context(recordedEvents().events)), /holds the deploy lock/, 'the lock is still held');
    backend.lockedNow = false; // a person broke the lock
    backend.failAt.delete('start');
    await assert.rejects(runRelease(exampleReleasePlan(R1), backend, context(recordedEvents().events)), /lock container gone/, 'after a good release, a lock that stays held is an error');
  });

  for (const standby of ['running', 'stopped'] as const) {
    it(`a rollback whose gate fails puts the resumed slot back as it was (standby ${standby}), still a rollback target`, async () => {
      const backend = new MemoryBackend();
      const plan = (id: string) => exampleReleasePlan(id, { standby });
      await deployed(backend, plan(R1), plan(R2));
      backend.stagingHealth = () => ({ ok: false, detail: 'HTTP 500' });
      await assert.rejects(runRelease(plan(R2), backend, context(recordedEvents().events, { rollback: {} })), /health gate/);
      assert.equal(backend.slotState.get('blue')?.running, standby === 'running');
      assert.equal(backend.slotState.get('blue')?.plan.image.releaseId, R1);
      assert.ok(backend.calls.includes(`park blue ${standby}`));
      assert.equal(backend.routingState.live?.releaseId, R2);
    });
  }
});
