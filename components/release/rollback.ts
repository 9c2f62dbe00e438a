import { DeployError } from '../errors.js';
import { otherSlot, type ReleaseImage, type ReleasePlan, type Slot } from './plan.js';
import type { RoutedRelease, SlotRecord, SnapshotRecord } from './ports.js';

/**
 * A rollback only chooses which release to promote; the promotion is the release's own
 * (components/release/promote.ts). `nothing`: the pinned release already serves, so `pulumi up`
 * with the same pin changes nothing.
 */
export type RollbackChoice =
  | { action: 'nothing'; live: RoutedRelease; previousRelease: string | null }
  | { action: 'promote'; plan: ReleasePlan; slot: Slot; from: 'parked' | 'fresh'; warm: boolean };

export interface RollbackSituation {
  stack: string;
  live: RoutedRelease | null;
  /** What the live slot holds (its plan is the base of a rollback to a named kept image). */
  liveRecord: SlotRecord | undefined;
  /** What the other slot holds: the parked previous release, usually. */
  idleRecord: SlotRecord | undefined;
  /** A kept release id to go back to; default: the parked previous release. */
  to?: string;
  /** `to` is the stack's pinned release (`release.rollbackTo`). */
  pinned: boolean;
}

/** Pure: which release a rollback makes live, and from where; DeployError when there is none. */
export function chooseRollback(situation: RollbackSituation): RollbackChoice {
  const { live, liveRecord, idleRecord, to, stack } = situation;
  if (!live) {
    throw new DeployError(`Nothing of stack ${stack} serves, so there is nothing to roll back from`, `deploy with \`pulumi up --stack ${stack}\``);
  }
  if (to !== undefined && to === live.releaseId) {
    if (situation.pinned) return { action: 'nothing', live, previousRelease: idleRecord?.plan.image.releaseId ?? null };
    throw new DeployError(`Release ${to} is already live`, 'nothing to roll back');
  }
  const idle = otherSlot(live.slot);
  if (idleRecord && (to === undefined || idleRecord.plan.image.releaseId === to)) {
    return { action: 'promote', plan: idleRecord.plan, slot: idle, from: 'parked', warm: idleRecord.running };
  }
  if (to === undefined) {
    throw new DeployError(
      `Nothing is parked in the ${idle} slot to roll back to`,
      `name a kept release: pulumi config set --path release.rollbackTo <release id> --stack ${stack} && pulumi up --stack ${stack}`,
    );
  }
  if (!liveRecord) {
    throw new DeployError(`The live ${live.slot} slot of stack ${stack} does not say which release it runs`, `release again with \`pulumi up --stack ${stack}\``);
  }
  return { action: 'promote', plan: { ...liveRecord.plan, image: imageForRelease(liveRecord.plan.image, to) }, slot: idle, from: 'fresh', warm: false };
}

/**
 * The image of an earlier release: a release id is an image tag (`<semver>-<sha>-<timestamp>...`)
 * of the stack's own repository, optionally followed by `+cfg.<digest>` (the config it ran with,
 * which does not change the image).
 */
export function imageForRelease(current: ReleaseImage, releaseId: string): ReleaseImage {
  const repository = current.ref.slice(0, current.ref.lastIndexOf(':'));
  const tag = releaseId.split('+')[0]!;
  const match = /^(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)-([0-9a-f]{7,40})-/.exec(tag);
  if (!match) {
    throw new DeployError(`"${releaseId}" is not a release id (<semver>-<git sha>-<timestamp>)`, 'the stack outputs liveVersion and previousVersion name release ids (pulumi stack output)');
  }
  return { ref: `${repository}:${tag}`, releaseId, version: match[1]!, commit: match[2]! };
}

/**
 * The earliest verified snapshot taken after the target release started: a migration ran then,
 * so the database is newer than the code now serving.
 */
export function snapshotSince(snapshots: readonly SnapshotRecord[], since: Date): SnapshotRecord | undefined {
  return [...snapshots]
    .filter((snapshot) => snapshot.verified && snapshot.takenAt.getTime() > since.getTime())
    .sort((a, b) => a.takenAt.getTime() - b.takenAt.getTime())[0];
}

/** The newest verified snapshot (ties broken by name, so the choice is stable). */
export function newestVerified<T extends SnapshotRecord>(snapshots: readonly T[]): T | undefined {
  return [...snapshots]
    .filter((snapshot) => snapshot.verified)
    .sort((a, b) => a.takenAt.getTime() - b.takenAt.getTime() || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .at(-1);
}
