import type { Bucket } from '@google-cloud/storage';
import type { DeployEvents } from '../../../components/events/deploy-events.js';
import { newestVerified } from '../../../components/release/rollback.js';
import { storageErrorCode } from '../storage/release-bucket.js';
import { listSnapshots, type GcsSnapshot } from './snapshot-store.js';

const DAY_MS = 86_400_000;

/**
 * Snapshot retention on GCP, the same rule as Docker and AWS: the newest verified snapshot is
 * always kept, however old; every other snapshot taken before `now - retentionDays` is deleted.
 *
 * The bucket's lifecycle rule (GcpTarget) backs this up for stacks that stop releasing: it
 * deletes snapshot objects whose custom time is more than retentionDays ago (daysSinceCustomTime),
 * and only the release sets a custom time, here, on each snapshot once a newer verified one exists
 * (Cloud Storage's custom time can only move forward, and a superseded snapshot never becomes the
 * newest again). The newest verified snapshot has none, so no rule can delete it.
 */
export function planSnapshotRetention(snapshots: readonly GcsSnapshot[], options: { retentionDays: number; now: Date }): { delete: GcsSnapshot[]; supersede: GcsSnapshot[]; keep: GcsSnapshot | undefined } {
  const newest = newestVerified(snapshots);
  if (!newest) return { delete: [], supersede: [], keep: undefined };
  const cutoff = options.now.getTime() - options.retentionDays * DAY_MS;
  const older = snapshots.filter((s) => s !== newest && s.takenAt.getTime() <= newest.takenAt.getTime());
  return { delete: older.filter((s) => s.takenAt.getTime() < cutoff), supersede: older.filter((s) => s.takenAt.getTime() >= cutoff && s.customTime === undefined), keep: newest };
}

export async function applySnapshotRetention(bucket: Bucket, database: string, options: { retentionDays: number; now: Date; events?: DeployEvents }): Promise<{ deleted: string[]; superseded: string[] }> {
  const plan = planSnapshotRetention(await listSnapshots(bucket, database), options);
  const deleted: string[] = [];
  for (const snapshot of plan.delete) {
    try {
      await bucket.file(snapshot.object, { generation: Number(snapshot.generation) }).delete({ ifGenerationMatch: Number(snapshot.generation) });
      deleted.push(snapshot.name);
    } catch (error) {
      if (storageErrorCode(error) !== 404 && storageErrorCode(error) !== 412) throw error;
    }
  }
  const superseded: string[] = [];
  for (const snapshot of plan.supersede) {
    await bucket.file(snapshot.object).setMetadata({ customTime: snapshot.takenAt.toISOString() }, { ifGenerationMatch: Number(snapshot.generation) });
    superseded.push(snapshot.name);
  }
  options.events?.emit('snapshot.pruned', { deleted, superseded, kept: plan.keep?.name ?? null, retentionDays: options.retentionDays });
  return { deleted, superseded };
}
