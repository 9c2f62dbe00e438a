import type { DockerEngine } from '../engine.js';
import { DockerCommandError } from '../engine.js';
import type { DeployEvents } from '../../../components/events/deploy-events.js';
import { removeFilesArgs, type SnapshotSpec } from './snapshot-commands.js';
import { newestVerified, readSnapshotFolder, type SnapshotFolder } from './snapshot-folder.js';

/** @see ReleaseSpec.snapshots.retentionDays */
export const DEFAULT_RETENTION_DAYS = 7;

const DAY_MS = 86_400_000;

export interface RetentionPlan {
  /** Set when retention is held back; then `delete` is empty. */
  heldBack?: string;
  /** File names (dumps with their checksum files, and old traces). */
  delete: string[];
  keep: Array<{ name: string; reason: string }>;
}

/**
 * Which files of the snapshot folder to delete. The rule, in order:
 * 1. Nothing is deleted unless at least one verified snapshot exists.
 * 2. Nothing is deleted when anything of an attempt at or after the newest verified snapshot's
 *    time is there: a failure record (`.dump.failed`, i.e. the latest attempt failed), a partial
 *    dump, a checksum file without its dump, or a dump without a checksum (unverified).
 * 3. The newest verified snapshot is always kept, however old.
 * 4. Every other verified snapshot taken before `now - retentionDays` is deleted (dump and
 *    checksum file); newer ones are kept.
 * 5. Traces of failed attempts (failure records, partial dumps, lone checksum files) older than
 *    both the newest verified snapshot and the retention window are deleted too.
 * 6. Unverified dumps older than the newest verified snapshot are kept and reported: they may be
 *    someone's manual dump, so only a person deletes them.
 * Times are the ones in the file names (UTC), not file mtimes.
 */
export function planRetention(folder: SnapshotFolder, options: { retentionDays: number; now: Date }): RetentionPlan {
  if (!(Number.isFinite(options.retentionDays) && options.retentionDays >= 0)) {
    throw new Error(`retentionDays must be a number >= 0, got ${options.retentionDays}`);
  }
  const keep: RetentionPlan['keep'] = [];
  const deleteNames: string[] = [];
  const newest = newestVerified(folder.snapshots);
  const everything = [...folder.snapshots.map((s) => s.name), ...folder.traces.map((t) => t.name)].sort();
  const keepAll = (heldBack: string): RetentionPlan => ({ heldBack, delete: [], keep: everything.map((name) => ({ name, reason: 'retention held back' })) });

  if (!newest) return keepAll('no verified snapshot exists');
  const newestTime = newest.takenAt.getTime();
  const unfinished = [
    ...folder.traces.filter((trace) => trace.takenAt.getTime() >= newestTime),
    ...folder.snapshots.filter((s) => !s.verified && s.takenAt.getTime() >= newestTime),
  ].map((file) => file.name);
  if (unfinished.length > 0) {
    return keepAll(`a snapshot attempt at or after the newest verified one (${newest.name}) did not finish verified: ${unfinished.sort().join(', ')}`);
  }

  const cutoff = options.now.getTime() - options.retentionDays * DAY_MS;
  for (const snapshot of folder.snapshots) {
    if (snapshot === newest) keep.push({ name: snapshot.name, reason: 'newest verified snapshot' });
    else if (!snapshot.verified) keep.push({ name: snapshot.name, reason: 'unverified; never deleted automatically' });
    else if (snapshot.takenAt.getTime() < cutoff) deleteNames.push(snapshot.name, `${snapshot.name}.sha256`);
    else keep.push({ name: snapshot.name, reason: `within ${options.retentionDays} days` });
  }
  for (const trace of folder.traces) {
    if (trace.takenAt.getTime() < cutoff) deleteNames.push(trace.name);
    else keep.push({ name: trace.name, reason: `failed attempt within ${options.retentionDays} days` });
  }
  return { delete: deleteNames.sort(), keep: keep.sort((a, b) => (a.name < b.name ? -1 : 1)) };
}

export interface RetentionResult extends RetentionPlan {
  deleted: string[];
}

/**
 * Runs on every release, after the snapshot: deletes what `planRetention` says, in one `rm`.
 * A held-back retention deletes nothing and is logged as a warning.
 */
export async function applyRetention(
  engine: DockerEngine,
  spec: SnapshotSpec,
  now: Date = new Date(),
  options: { events?: DeployEvents } = {},
): Promise<RetentionResult> {
  const folder = await readSnapshotFolder(engine, spec);
  const plan = planRetention(folder, { retentionDays: spec.snapshots.retentionDays, now });
  if (plan.heldBack) {
    options.events?.logger.warn({ event: 'snapshot.retention-held-back', dir: folder.dir, reason: plan.heldBack }, 'snapshot retention held back');
    return { ...plan, deleted: [] };
  }
  if (plan.delete.length > 0) {
    const args = removeFilesArgs(
      spec,
      plan.delete.map((name) => `${folder.dir}/${name}`),
    );
    const result = await engine.exec(args);
    if (result.exitCode !== 0) throw new DockerCommandError(args, result);
  }
  options.events?.emit('snapshot.pruned', {
    dir: folder.dir,
    deleted: plan.delete,
    kept: plan.keep.map((entry) => entry.name),
    retentionDays: spec.snapshots.retentionDays,
  });
  return { ...plan, deleted: plan.delete };
}
