import type { DockerEngine } from '../../providers/docker/engine.js';
import { DeployError } from '../errors.js';
import type { DeployEvents } from '../events/deploy-events.js';
import { runStagingGate } from '../health-gate/index.js';
import { acquireDeployLock, lockHolderForThisProcess, type LockHolder } from '../lock/index.js';
import { pendingMigrations, runMigrations } from '../migrate/index.js';
import { drainAfterSwitch } from '../drain/index.js';
import { ensureProxyConfig, readProxyState, stageSlot, switchTraffic } from '../proxy/index.js';
import { pruneImages } from '../prune/index.js';
import { removeSlot, startSlot } from '../slots/index.js';
import { applyRetention, latestSnapshot, takeSnapshot } from '../snapshot/index.js';
import { verifySwitchOrRestore } from '../verify/index.js';
import { otherSlot, type ReleaseSpec, type Slot } from './spec.js';

/** What a release needs besides its spec; tests and the CLI pass the same things. */
export interface ReleaseContext {
  engine: DockerEngine;
  events: DeployEvents;
  /** Values of spec.secretEnv. @default process.env */
  secrets?: Record<string, string | undefined>;
  /** Who takes the deploy lock. @default this process */
  holder?: LockHolder;
}

/** The stack outputs a release reports (the last JSON line the release CLI prints). */
export interface ReleaseSummary {
  liveSlot: Slot;
  liveRelease: string;
  previousRelease: string | null;
  latestSnapshot: string | null;
}

export interface ReleaseOutcome extends ReleaseSummary {
  /** Milliseconds per phase, in the order they ran. */
  phases: Record<string, number>;
  /** The snapshot this release took before migrating, if migrations were pending. */
  snapshot: string | null;
  migrated: string[];
}

/** Records how long each phase takes, in order. */
export class PhaseClock {
  readonly phases: Record<string, number> = {};
  private readonly started = performance.now();

  /** Milliseconds since the clock was made. */
  total(): number {
    return Math.round(performance.now() - this.started);
  }

  async time<T>(phase: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.phases[phase] = Math.round(performance.now() - started);
    }
  }
}

/**
 * Runs steps at the same time and waits for every one of them, then throws the first failure:
 * a failed step never leaves another running after the release has given up (and let go of
 * the lock).
 */
export async function allSettledOrThrow(steps: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(steps);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Refuses before anything changes when the database has migrations an operator must look at
 * (failed, edited after applying, or being applied by someone else right now).
 */
export function migrationBlocker(status: { failed: string[]; changed: string[]; running: string[] }): DeployError | undefined {
  if (status.failed.length > 0) {
    return new DeployError(
      `Migration ${status.failed.join(', ')} failed in an earlier run; nothing was released`,
      `inspect it with \`trapperkeeper migrate --status\`, fix the cause, then \`trapperkeeper migrate --resolve ${status.failed[0]}\``,
    );
  }
  if (status.changed.length > 0) {
    return new DeployError(
      `Migration ${status.changed.join(', ')} was edited after it was applied; nothing was released`,
      'restore the applied file from version control and add a new migration for the change',
    );
  }
  if (status.running.length > 0) {
    return new DeployError(`Migration ${status.running.join(', ')} is being applied by another process; nothing was released`, 'wait for it and release again');
  }
  return undefined;
}

/**
 * One blue-green release, the sequence `pulumi up` runs (through the release CLI) and the tests
 * run: lock; read the live slot once; if migrations are pending, a verified snapshot and then
 * the migrations; start the idle slot; health gate through the staging listeners; switch every
 * route at once; verify through the public endpoint (restore and fail if it does not serve the
 * release); drain and park the old slot for rollback; prune images and old snapshots. A failure
 * before the switch leaves the live slot serving; the lock is released on every path.
 */
export async function runRelease(spec: ReleaseSpec, context: ReleaseContext): Promise<ReleaseOutcome> {
  const { engine, events } = context;
  const secrets = context.secrets ?? process.env;
  const clock = new PhaseClock();
  events.emit('release.started', { stack: spec.stack, release: spec.image.releaseId, image: spec.image.ref });
  const lock = await clock.time('lock', () =>
    acquireDeployLock(engine, spec, context.holder ?? lockHolderForThisProcess(spec.image), { waitMs: spec.lock.waitMs, events }),
  );
  events.emit('lock.acquired', { lock: lock.name, durationMs: clock.phases.lock });
  try {
    const live = await clock.time('read-live', async () => {
      const state = await readProxyState(engine, spec);
      await ensureProxyConfig(engine, spec, state);
      return state.routing.live;
    });
    const target: Slot = live ? otherSlot(live.slot) : 'blue';

    const migrations = await clock.time('check-migrations', () => pendingMigrations(engine, spec, { secrets, events }));
    const blocker = migrationBlocker(migrations);
    if (blocker) throw blocker;
    let snapshot: string | null = null;
    let migrated: string[] = [];
    if (migrations.pending.length > 0) {
      snapshot = (await clock.time('snapshot', () => takeSnapshot(engine, spec, { commit: spec.image.commit, events }))).name;
      migrated = (await clock.time('migrate', () => runMigrations(engine, spec, { secrets, events }))).applied;
    }

    // Staging only points Caddy's unpublished staging listeners at the idle slot, so it runs while
    // the slot's containers start.
    await allSettledOrThrow([
      clock.time('start-slot', () => startSlot(engine, spec, target, { secrets })),
      clock.time('stage', () => stageSlot(engine, spec, { live, slot: target })),
    ]);
    events.emit('slot.started', { slot: target, release: spec.image.releaseId, durationMs: clock.phases['start-slot'] });
    await clock.time('health-gate', () => gateOrRemove(spec, context.engine, target));
    events.emit('gate.passed', { slot: target, release: spec.image.releaseId, durationMs: clock.phases['health-gate'] });

    const switched = await clock.time('switch', () => switchTraffic(engine, spec, target, { expectedLive: live }));
    await clock.time('verify', async () => {
      try {
        await verifySwitchOrRestore(engine, spec, switched);
      } catch (error) {
        await removeSlot(engine, spec, target).catch(() => undefined);
        throw error;
      }
    });
    events.emit('promoted', {
      slot: target,
      release: spec.image.releaseId,
      previous: live?.releaseId ?? null,
      durationMs: (clock.phases.switch ?? 0) + (clock.phases.verify ?? 0),
    });

    const drained = await clock.time('drain', () => drainAfterSwitch(engine, spec, switched));
    if (drained) events.emit('drained', { slot: drained.slot, outcome: drained, durationMs: clock.phases.drain });
    await clock.time('prune', async () => {
      const started = performance.now();
      const pruned = await pruneImages(engine, spec);
      events.emit('pruned', { images: pruned, durationMs: Math.round(performance.now() - started) });
      await applyRetention(engine, spec, new Date(), { events });
    });

    const latest = await latestSnapshot(engine, spec);
    const outcome: ReleaseOutcome = {
      liveSlot: target,
      liveRelease: spec.image.releaseId,
      previousRelease: live?.releaseId ?? null,
      latestSnapshot: latest?.name ?? null,
      phases: clock.phases,
      snapshot,
      migrated,
    };
    events.emit('release.succeeded', { ...outcome, release: outcome.liveRelease, slot: target, durationMs: clock.total() });
    return outcome;
  } catch (error) {
    events.emit('release.failed', { release: spec.image.releaseId, error: (error as Error).message, phases: clock.phases, durationMs: clock.total() }, 'error');
    throw error;
  } finally {
    await lock.release();
    events.emit('lock.released', { lock: lock.name });
  }
}

/**
 * The gate; on failure the idle slot's containers go (traffic never moved), so a half-started
 * release is never mistaken for a parked rollback target.
 */
async function gateOrRemove(spec: ReleaseSpec, engine: DockerEngine, target: Slot): Promise<void> {
  try {
    await runStagingGate(engine, spec, target);
  } catch (error) {
    await removeSlot(engine, spec, target).catch(() => undefined);
    throw error;
  }
}
