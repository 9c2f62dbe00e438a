import { DeployError } from '../errors.js';
import type { DeployEvents } from '../events/deploy-events.js';
import { lockHolderForThisProcess, type LockHolder } from '../lock/lock-holder.js';
import { recordFailed, recordLive, scrapeSlots } from './monitoring.js';
import { allSettledOrThrow, PhaseClock } from './phases.js';
import { otherSlot, type ReleasePlan, type Slot } from './plan.js';
import type { HeldLock, ReleaseBackend, RoutedRelease, SnapshotRecord } from './ports.js';
import { promote, type Promotion } from './promote.js';
import { planReleaseSteps, type ReleaseSteps } from './planner.js';
import { newestVerified, snapshotSince } from './rollback.js';

export { allSettledOrThrow, PhaseClock } from './phases.js';

/** What a release needs besides its plan and the target's backend; tests and the CLI pass the same. */
export interface ReleaseContext {
  events: DeployEvents;
  /** Values of plan.secretEnv. @default process.env */
  secrets?: Record<string, string | undefined>;
  /** Who takes the deploy lock. @default this process */
  holder?: LockHolder;
  /**
   * Roll back instead of releasing `plan`: make this kept release live (undefined: the parked
   * previous release). Nothing is migrated; the promotion is the release's own.
   */
  rollback?: { to?: string; pinned?: boolean };
  /** @default new Date() (snapshot retention) */
  now?: () => Date;
}

/** The stack outputs a release reports (the last JSON line the release CLI prints). */
export interface ReleaseSummary {
  liveSlot: Slot;
  liveRelease: string;
  previousRelease: string | null;
  latestSnapshot: string | null;
}

export interface ReleaseOutcome extends ReleaseSummary {
  kind: 'release' | 'rollback';
  /** Milliseconds per phase, in the order they ran. */
  phases: Record<string, number>;
  /** The snapshot this release took before migrating, if migrations were pending. */
  snapshot: string | null;
  migrated: string[];
  /** A rollback across a migration: how to put the data back too. */
  migrationWarning: string | null;
  /** False when a pinned rollback found its release already live and changed nothing. */
  changed: boolean;
}

/**
 * One blue-green release, or a rollback, on any target: lock; read what serves; for a release,
 * a verified snapshot and the migrations when some are pending; for a rollback, the choice of
 * the release to go back to; then the one promotion path (start, stage, gate, switch, verify,
 * drain); prune images and old snapshots. A failure before the switch leaves the live release
 * serving; the lock is released on every path.
 */
export async function runRelease(plan: ReleasePlan, backend: ReleaseBackend, context: ReleaseContext): Promise<ReleaseOutcome> {
  const { events } = context;
  const secrets = context.secrets ?? process.env;
  const kind = context.rollback ? 'rollback' : 'release';
  const clock = new PhaseClock();
  const requested = context.rollback ? (context.rollback.to ?? 'the parked previous release') : plan.image.releaseId;
  events.emit('release.started', { kind, stack: plan.stack, release: requested, image: context.rollback ? undefined : plan.image.ref });
  let lock: HeldLock | undefined;
  let failed = false;
  // For monitoring when the release fails: what served, what was attempted, the candidate's scrape list.
  const seen: { live?: RoutedRelease | null; attempted?: ReleasePlan; scraping?: Promise<void> } = {};
  try {
    lock = await clock.time('lock', () => backend.lock.acquire(context.holder ?? lockHolderForThisProcess(plan.image), { waitMs: plan.lock.waitMs, events }));
    // What serves and what the plan's migrations need are independent reads: both at once.
    const reading = clock.time('read-live', () => backend.routing.read());
    const checking = context.rollback ? undefined : clock.time('check-migrations', () => backend.database.migrationStatus(plan, secrets));
    await allSettledOrThrow([reading, ...(checking ? [checking] : [])]);
    const routing = await reading;
    const live = routing.live;
    seen.live = live;

    let steps: ReleaseSteps;
    let idleStartedAt: Date | undefined;
    if (context.rollback) {
      const [liveRecord, idleRecord] = live
        ? await Promise.all([backend.slots.describe(live.slot), backend.slots.describe(otherSlot(live.slot))])
        : [undefined, undefined];
      idleStartedAt = idleRecord?.startedAt;
      steps = planReleaseSteps({
        kind: 'rollback',
        stack: plan.stack,
        live,
        liveRecord,
        idleRecord,
        ...(context.rollback.to !== undefined ? { to: context.rollback.to } : {}),
        pinned: context.rollback.pinned ?? false,
      });
    } else {
      steps = planReleaseSteps({ kind: 'release', plan, live, migrations: await checking! });
    }

    if (steps.action === 'nothing') {
      const outcome: ReleaseOutcome = {
        kind,
        liveSlot: steps.live.slot,
        liveRelease: steps.live.releaseId,
        previousRelease: steps.previousRelease,
        latestSnapshot: newestVerified(await backend.database.listSnapshots())?.name ?? null,
        phases: clock.phases,
        snapshot: null,
        migrated: [],
        migrationWarning: null,
        changed: false,
      };
      events.emit('release.succeeded', { kind, release: outcome.liveRelease, slot: outcome.liveSlot, unchanged: true, durationMs: clock.total() });
      return outcome;
    }
    if (steps.from === 'fresh' && context.rollback && !(await backend.images.exists(steps.plan))) {
      throw new DeployError(
        `The image of release ${steps.plan.image.releaseId} (${steps.plan.image.ref}) is no longer kept, so it cannot be made live again`,
        `choose a kept release (the stack keeps ${plan.keepReleases}), or check out its commit and \`pulumi up\``,
      );
    }
    seen.attempted = steps.plan;
    let snapshot: string | null = null;
    let migrated: string[] = [];
    if (steps.migrate) {
      snapshot = (await clock.time('snapshot', () => backend.database.snapshot(steps.plan, events))).name;
      migrated = (await clock.time('migrate', () => backend.database.migrate(steps.plan, secrets, events))).applied;
    }
    const promotion: Promotion = { plan: steps.plan, slot: steps.slot, live, staged: routing.staging, from: steps.from, warm: steps.warm, secrets };
    const resumedStartedAt = steps.from === 'parked' ? idleStartedAt : undefined;
    // A rollback takes no snapshot and adds no image: its snapshots can be listed while it
    // promotes, and there is nothing for it to prune (the next release does).
    const listedEarly = context.rollback ? backend.database.listSnapshots() : undefined;
    listedEarly?.catch(() => undefined);
    // Prometheus scrapes the candidate beside the live slot while it starts; written alongside
    // the promotion (it never throws), so a release waits for none of it.
    seen.scraping = scrapeSlots(backend, events, [...(live ? [{ slot: live.slot, role: 'live' as const }] : []), { slot: promotion.slot, role: 'candidate' }]);
    await promote(backend, promotion, { clock, events, kind });
    const release = promotion.plan.image.releaseId;

    if (!context.rollback) {
      // Old images and expired snapshots are independent: both go at once.
      await clock.time('prune', () =>
        Promise.all([
          (async () => {
            const started = performance.now();
            const pruned = await backend.images.prune(promotion.plan);
            events.emit('pruned', { kind, images: pruned.removed, durationMs: Math.round(performance.now() - started) });
          })(),
          backend.database.applyRetention(promotion.plan, context.now?.() ?? new Date(), events),
        ]),
      );
    }

    const snapshots = await (listedEarly ?? backend.database.listSnapshots());
    let migrationWarning: string | null = null;
    if (context.rollback) {
      const since = resumedStartedAt ?? (await backend.images.builtAt(promotion.plan));
      const crossed = snapshotSince(snapshots, since);
      if (crossed) migrationWarning = await backend.database.restoreHint(promotion.plan, crossed);
    }
    const outcome: ReleaseOutcome = {
      kind,
      liveSlot: promotion.slot,
      liveRelease: release,
      previousRelease: live?.releaseId ?? null,
      latestSnapshot: newestVerified(snapshots)?.name ?? null,
      phases: clock.phases,
      snapshot,
      migrated,
      migrationWarning,
      changed: true,
    };
    await seen.scraping;
    await Promise.all([
      scrapeSlots(backend, events, [{ slot: promotion.slot, role: 'live' }]),
      recordLive(backend, events, { plan: promotion.plan, slot: promotion.slot, phasesMs: clock.phases, at: context.now?.() ?? new Date(), rollback: kind === 'rollback' }),
    ]);
    events.emit(
      'release.succeeded',
      { kind, release, slot: outcome.liveSlot, previous: outcome.previousRelease, phases: clock.phases, warning: migrationWarning ?? undefined, durationMs: clock.total() },
      migrationWarning ? 'warn' : 'info',
    );
    return outcome;
  } catch (error) {
    failed = true;
    if (seen.scraping) {
      await seen.scraping;
      await scrapeSlots(backend, events, seen.live ? [{ slot: seen.live.slot, role: 'live' }] : []);
    }
    await recordFailed(backend, events, {
      stack: plan.stack,
      release: seen.attempted?.image.releaseId ?? requested,
      phasesMs: clock.phases,
      failedPhase: clock.failedPhase,
      at: context.now?.() ?? new Date(),
      // A failed verification put the previous routing back (promote.ts verifyOrRestore).
      ...(clock.failedPhase === 'verify' && seen.live ? { restoredRelease: seen.live.releaseId } : {}),
    });
    events.emit('release.failed', { kind, release: requested, error: (error as Error).message, phases: clock.phases, durationMs: clock.total() }, 'error');
    throw error;
  } finally {
    // When the release failed, its error is what a person must see; a lock that would not let go
    // is then only logged (with how to break it).
    await lock?.release().catch((error: unknown) => {
      events.logger.error({ event: 'lock.release-failed', lock: lock?.name, error: (error as Error).message }, 'could not release the deploy lock');
      if (!failed) throw error;
    });
  }
}
