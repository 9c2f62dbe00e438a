/**
 * Snapshot file names: `<db>_<UTC YYYYMMDDTHHMMSSZ>_<git sha>.dump`, plus the files that travel
 * with one. The time in the name is the snapshot's time for listing and retention (not the
 * file's mtime, which a copy or restore of the volume changes).
 */
export const DUMP_SUFFIX = '.dump';
/** `sha256sum -c` format, written only after the dump passed a full read. */
export const CHECKSUM_SUFFIX = '.dump.sha256';
/** pg_dump writes here; renamed (linked) to the final name only once verified. */
export const PARTIAL_SUFFIX = '.dump.partial';
/** Left by a failed attempt (its reason inside), so retention knows the last attempt failed. */
export const FAILED_SUFFIX = '.dump.failed';

export type SnapshotFileKind = 'dump' | 'checksum' | 'partial' | 'failed';

export interface SnapshotFileName {
  kind: SnapshotFileKind;
  /** The dump's name this file belongs to (`<db>_<time>_<sha>.dump`). */
  dumpName: string;
  takenAt: Date;
  commit: string;
}

const SUFFIXES: Array<[SnapshotFileKind, string]> = [
  ['checksum', CHECKSUM_SUFFIX],
  ['partial', PARTIAL_SUFFIX],
  ['failed', FAILED_SUFFIX],
  ['dump', DUMP_SUFFIX],
];

const DATABASE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const COMMIT = /^[A-Za-z0-9]{1,64}$/;

export function isSnapshotDatabaseName(name: string): boolean {
  return DATABASE_NAME.test(name) && name.length <= 63;
}

export function isSnapshotCommit(commit: string): boolean {
  return COMMIT.test(commit);
}

/** 2026-11-23T10:15:00.123Z -> 20261123T101500Z */
export function formatSnapshotTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

export function parseSnapshotTime(text: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
  return Number.isNaN(date.getTime()) || formatSnapshotTime(date) !== text ? undefined : date;
}

export function snapshotDumpName(database: string, takenAt: Date, commit: string): string {
  return `${database}_${formatSnapshotTime(takenAt)}_${commit}${DUMP_SUFFIX}`;
}

/** What a file in the snapshot folder is, for this database; undefined for anything else. */
export function parseSnapshotFileName(database: string, fileName: string): SnapshotFileName | undefined {
  const prefix = `${database}_`;
  if (!fileName.startsWith(prefix)) return undefined;
  for (const [kind, suffix] of SUFFIXES) {
    if (!fileName.endsWith(suffix)) continue;
    const middle = fileName.slice(prefix.length, fileName.length - suffix.length);
    const match = /^(\d{8}T\d{6}Z)_([A-Za-z0-9]{1,64})$/.exec(middle);
    const takenAt = match ? parseSnapshotTime(match[1]!) : undefined;
    if (!match || !takenAt) return undefined;
    return { kind, dumpName: `${prefix}${middle}${DUMP_SUFFIX}`, takenAt, commit: match[2]! };
  }
  return undefined;
}
