import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it as itCase } from 'node:test';
import { createDeployEvents, type DeployEvents } from '../events/deploy-events.js';
import { runHealthGate } from '../health-gate/run-health-gate.js';
import { lockHolderForThisProcess } from '../lock/lock-holder.js';
import type { ReleasePlan } from './plan.js';
import type { CheckSet, ReleaseBackend, SwitchResult } from './ports.js';

/** A target under test: a backend for a new, empty stack, and a release it can run. */
export interface ContractSubject {
  backend: ReleaseBackend;
  /** A release of the stack whose image the target has; its database has migrations pending. */
  plan: ReleasePlan;
  /** The same stack and image with another config (another release id). */
  otherPlan: ReleasePlan;
  /** Values of plan.secretEnv. */
  secrets: Record<string, string>;
  /** A second backend on the same stack, as another release process would have. */
  secondBackend(): ReleaseBackend;
  tearDown(): Promise<void>;
}

function eventLog(): { events: DeployEvents; names(): string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  return {
    events: createDeployEvents({ format: 'json', destination, jsonFile: '' }),
    names: () => lines.map((line) => String((JSON.parse(line) as { event?: string }).event)),
  };
}

async function passes(open: Promise<CheckSet>, plan: ReleasePlan): Promise<void> {
  const set = await open;
  try {
    await runHealthGate(set.checks, { ...plan.gate, subject: 'contract', fix: '' });
  } finally {
    await set.close();
  }
}

/**
 * What every target's backend must do, port by port, in the order a release uses them. Each
 * target runs it against the real thing (Docker in CI; the clouds against their emulators), so
 * the pipeline's guarantees hold on every target that passes.
 */
export function describeReleaseBackendContract(
  target: string,
  setup: () => Promise<ContractSubject>,
  options: {
    timeout?: number;
    /**
     * Cases a target cannot run yet, by the word before the case's colon (`images`), each with
     * why: they are reported as skipped with that reason, never as passed.
     */
    unsupported?: Partial<Record<'lock' | 'database' | 'slots, routing and gate' | 'routing' | 'images' | 'slots', string>>;
  } = {},
): void {
  const unsupported = options.unsupported ?? {};
  const it = (title: string, fn: () => Promise<void>) => {
    const reason = (unsupported as Record<string, string | undefined>)[title.slice(0, title.indexOf(':'))];
    return reason ? itCase(title, { skip: `${target}: ${reason}` }, fn) : itCase(title, fn);
  };
  describe(`the release backend contract: ${target}`, { timeout: options.timeout ?? 600_000 }, () => {
    let subject: ContractSubject;
    let backend: ReleaseBackend;
    let plan: ReleasePlan;
    const log = eventLog();

    before(async () => {
      subject = await setup();
      ({ backend, plan } = subject);
    });
    after(async () => {
      await subject?.tearDown();
    });

    it('lock: one holder at a time, refused at once with waitMs 0, free again once released; events for both', async () => {
      const held = await backend.lock.acquire(lockHolderForThisProcess(plan.image), { waitMs: 0, events: log.events });
      await assert.rejects(subject.secondBackend().lock.acquire(lockHolderForThisProcess(plan.image), { waitMs: 0, events: log.events }));
      await held.release();
      const again = await subject.secondBackend().lock.acquire(lockHolderForThisProcess(plan.image), { waitMs: 0, events: log.events });
      await again.release();
      assert.deepEqual(log.names().filter((n) => n.startsWith('lock.')), ['lock.acquired', 'lock.released', 'lock.acquired', 'lock.released']);
    });

    it('database: reports pending migrations, takes a verified snapshot, migrates, and lists the snapshot', async () => {
      const before = await backend.database.migrationStatus(plan, subject.secrets);
      assert.ok(before.pending.length > 0, 'a new stack has migrations pending');
      assert.deepEqual([before.failed, before.changed, before.running], [[], [], []]);
      const snapshot = await backend.database.snapshot(plan, log.events);
      assert.equal(snapshot.verified, true);
      const applied = await backend.database.migrate(plan, subject.secrets, log.events);
      assert.deepEqual(applied.applied, before.pending);
      assert.deepEqual((await backend.database.migrationStatus(plan, subject.secrets)).pending, []);
      const listed = await backend.database.listSnapshots();
      assert.ok(listed.some((s) => s.name === snapshot.name && s.verified), 'the snapshot is listed as verified');
      assert.ok((await backend.database.restoreHint(plan, snapshot)).length > 0);
      await backend.database.applyRetention(plan, new Date(), log.events);
      assert.ok((await backend.database.listSnapshots()).some((s) => s.name === snapshot.name), 'retention keeps a fresh snapshot');
      const names = log.names();
      assert.ok(names.includes('snapshot.taken') && names.includes('migrated'), names.join(', '));
    });

    it('slots, routing and gate: a started slot is described with its plan, staged while users see nothing, gated, parked (running or stopped) and resumed', async () => {
      assert.equal(await backend.slots.describe('blue'), undefined);
      await backend.slots.start(plan, 'blue', subject.secrets);
      const started = await backend.slots.describe('blue');
      assert.deepEqual(started?.plan, plan, 'a slot describes the plan it was started with, for rollback');
      assert.equal(started?.running, true);
      assert.deepEqual(await backend.routing.read(), { live: null, staging: null });
      await backend.routing.stage(plan, 'blue', null);
      assert.deepEqual(await backend.routing.read(), { live: null, staging: { slot: 'blue', releaseId: plan.image.releaseId } });
      await passes(backend.gate.staging(plan, 'blue'), plan);
      const standby = await backend.slots.park('blue', 'running');
      assert.equal(standby.clean, true, standby.details.join('; '));
      assert.equal((await backend.slots.describe('blue'))?.running, true, 'running standby leaves the slot up');
      await backend.slots.resume(plan, 'blue');
      await passes(backend.gate.staging(plan, 'blue'), plan);
      const parked = await backend.slots.park('blue', 'stopped');
      assert.equal(parked.slot, 'blue');
      assert.equal(parked.clean, true, parked.details.join('; '));
      assert.equal((await backend.slots.describe('blue'))?.running, false);
      assert.deepEqual((await backend.slots.describe('blue'))?.plan, plan, 'a stopped slot still describes its plan');
      await backend.slots.resume(plan, 'blue');
      assert.equal((await backend.slots.describe('blue'))?.running, true);
      await passes(backend.gate.staging(plan, 'blue'), plan);
    });

    it('routing: a switch refuses when what serves is not what the release read, else moves users and is verified publicly', async () => {
      await assert.rejects(backend.routing.switchTo(plan, 'blue', { slot: 'green', releaseId: 'not-live' }));
      assert.equal((await backend.routing.read()).live, null);
      const switched = await backend.routing.switchTo(plan, 'blue', null);
      assert.deepEqual(switched.routing.live, { slot: 'blue', releaseId: plan.image.releaseId });
      assert.deepEqual(switched.previous.live, null);
      await passes(backend.gate.public(plan), plan);
      assert.ok(backend.gate.diagnose('blue').length > 0 && backend.gate.diagnose('router').length > 0);
    });

    it('routing: restore puts back what a switch replaced', async () => {
      const other = subject.otherPlan;
      await backend.slots.start(other, 'green', subject.secrets);
      const live = (await backend.routing.read()).live;
      await backend.routing.stage(other, 'green', live);
      const switched: SwitchResult = await backend.routing.switchTo(other, 'green', live);
      assert.deepEqual((await backend.routing.read()).live, { slot: 'green', releaseId: other.image.releaseId });
      await backend.routing.restore(switched);
      assert.deepEqual((await backend.routing.read()).live, live);
    });

    it('images: the release image exists, an unknown one does not, and pruning never removes what a slot runs', async () => {
      assert.equal(await backend.images.exists(plan), true);
      assert.equal(await backend.images.exists({ ...plan, image: { ...plan.image, ref: `${plan.image.ref}-missing` } }), false);
      await backend.images.prune(plan);
      assert.equal(await backend.images.exists(plan), true);
      assert.ok((await backend.images.builtAt(plan)).getTime() <= Date.now());
    });

    it('slots: remove leaves nothing behind', async () => {
      await backend.slots.remove('green');
      assert.equal(await backend.slots.describe('green'), undefined);
    });
  });
}
