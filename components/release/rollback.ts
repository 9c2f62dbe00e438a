import type { DockerEngine } from '../../providers/docker/engine.js';
import { DeployError } from '../errors.js';
import type { DeployEvents } from '../events/deploy-events.js';
import { drainAfterSwitch } from '../drain/index.js';
import { runStagingGate } from '../health-gate/index.js';
import { acquireDeployLock, lockHolderForThisProcess, type LockHolder } from '../lock/index.js';
import { readProxyState, stageSlot, switchTraffic } from '../proxy/index.js';
import { removeSlot, startParkedSlot, startSlot } from '../slots/index.js';
import { listSnapshots, restoreInstructions, type Snapshot } from '../snapshot/index.js';
import { verifySwitchOrRestore } from '../verify/index.js';
import { allSettledOrThrow, PhaseClock } from './pipeline.js';
import { imageForRelease, readSlotRecord, type SlotRecord } from './slot-spec.js';
import { otherSlot, SLOTS, type ReleaseSpec, type Slot } from './spec.js';

export interface RollbackOptions {
  engine: DockerEngine;
  events: DeployEvents;
  /** `tk-<stack>`. */
  prefix: string;
  /** A kept release id to go back to; default: the parked previous slot. */
  to?: string;
  /**
   * `to` is the stack's pinned release (`release.rollbackTo`): when it already serves, report
   * that and change nothing, so `pulumi up` with the same pin is a no-op rather than an error.
   */
  pinned?: boolean;
  secrets?: Record<string, string | undefined>;
  holder?: LockHolder;
}

export interface RollbackOutcome {
  liveSlot: Slot;
  liveRelease: string;
  /** The release traffic moved away from (when nothing moved: the other slot's release, if any). */
  previousRelease: string | null;
  /** Set when migrations ran since the release now live: how to restore the data too. */
  migrationWarning: string | null;
  phases: Record<string, number>;
}

/**
 * The earliest verified snapshot taken after the target release started: a migration ran then,
 * so the database is newer than the code now serving.
 */
export function snapshotSince(snapshots: readonly Snapshot[], since: Date): Snapshot | undefined {
  return [...snapshots]
    .filter((snapshot) => snapshot.verified && snapshot.takenAt.getTime() > since.getTime())
    .sort((a, b) => a.takenAt.getTime() - b.takenAt.getTime())[0];
}

async function imageCreated(engine: DockerEngine, ref: string): Promise<Date> {
  return new Date((await engine.run(['image', 'inspect', '--format', '{{.Created}}', ref])).trim());
}

async function findLive(engine: DockerEngine, prefix: string): Promise<{ spec: ReleaseSpec; live: SlotRecord }> {
  const records = (await Promise.all(SLOTS.map((slot) => readSlotRecord(engine, prefix, slot)))).filter((r): r is SlotRecord => !!r);
  const any = records[0];
  if (!any) {
    throw new DeployError(`No release of ${prefix} exists on this Docker host`, 'deploy first with `pulumi up`, or check DOCKER_HOST');
  }
  const state = await readProxyState(engine, any.spec);
  const live = records.find((record) => record.slot === state.routing.live?.slot);
  if (!live) throw new DeployError(`Caddy serves no release of ${prefix}, so there is nothing to roll back from`, 'deploy with `pulumi up`');
  return { spec: live.spec, live };
}

/**
 * Moves traffic back to the previous release: the warm parked slot (seconds, no rebuild), or
 * with `to` a kept image started fresh. It goes through the same gate, switch, verification
 * and drain as a release and never runs migrations; if the database was migrated since that
 * release, it says so and how to restore the snapshot.
 */
export async function runRollback(options: RollbackOptions): Promise<RollbackOutcome> {
  const { engine, events } = options;
  const clock = new PhaseClock();
  const { spec: liveSpec, live } = await clock.time('read-live', () => findLive(engine, options.prefix));
  const targetSlot = otherSlot(live.slot);
  const parked = await readSlotRecord(engine, options.prefix, targetSlot);
  if (options.pinned && options.to === live.spec.image.releaseId) {
    return { liveSlot: live.slot, liveRelease: options.to, previousRelease: parked?.spec.image.releaseId ?? null, migrationWarning: null, phases: clock.phases };
  }
  const useParked = parked !== undefined && (options.to === undefined || parked.spec.image.releaseId === options.to);
  if (!useParked && options.to === undefined) {
    throw new DeployError(
      `Nothing is parked in the ${targetSlot} slot to roll back to`,
      `name a kept release: pulumi config set --path release.rollbackTo <release id> --stack ${liveSpec.stack} (kept images: docker images ${liveSpec.image.ref.split(':')[0]})`,
    );
  }
  const spec: ReleaseSpec = useParked ? parked!.spec : { ...liveSpec, image: imageForRelease(liveSpec.image, options.to!) };
  if (spec.image.releaseId === live.spec.image.releaseId) {
    throw new DeployError(`Release ${spec.image.releaseId} is already live`, 'nothing to roll back');
  }

  const lock = await clock.time('lock', () =>
    acquireDeployLock(engine, spec, options.holder ?? lockHolderForThisProcess(spec.image), { waitMs: spec.lock.waitMs, events }),
  );
  try {
    // As in a release, staging runs while the slot starts.
    await allSettledOrThrow([
      clock.time('start-slot', () =>
        useParked
          ? startParkedSlot(engine, spec, targetSlot).then(() => undefined)
          : startSlot(engine, spec, targetSlot, { secrets: options.secrets ?? process.env }).then(() => undefined),
      ),
      clock.time('stage', () => stageSlot(engine, spec, { live: { slot: live.slot, releaseId: live.spec.image.releaseId }, slot: targetSlot })),
    ]);
    await clock.time('health-gate', async () => {
      try {
        await runStagingGate(engine, spec, targetSlot);
      } catch (error) {
        if (!useParked) await removeSlot(engine, spec, targetSlot).catch(() => undefined);
        throw error;
      }
    });
    const switched = await clock.time('switch', () =>
      switchTraffic(engine, spec, targetSlot, { expectedLive: { slot: live.slot, releaseId: live.spec.image.releaseId } }),
    );
    await clock.time('verify', () => verifySwitchOrRestore(engine, spec, switched));
    await clock.time('drain', () => drainAfterSwitch(engine, spec, switched));

    const since = useParked ? parked!.createdAt : await imageCreated(engine, spec.image.ref);
    const migrated = snapshotSince(await listSnapshots(engine, spec), since);
    const migrationWarning = migrated ? restoreInstructions(spec, migrated) : null;
    const outcome: RollbackOutcome = {
      liveSlot: targetSlot,
      liveRelease: spec.image.releaseId,
      previousRelease: live.spec.image.releaseId,
      migrationWarning,
      phases: clock.phases,
    };
    events.emit('rolled-back', { from: outcome.previousRelease, to: outcome.liveRelease, slot: targetSlot, phases: clock.phases, durationMs: clock.total() });
    if (migrationWarning) events.emit('rolled-back', { warning: 'migrations ran since this release', snapshot: migrated!.name }, 'warn');
    return outcome;
  } finally {
    await lock.release();
  }
}
