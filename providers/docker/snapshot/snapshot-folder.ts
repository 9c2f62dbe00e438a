import { newestVerified } from '../../../components/release/rollback.js';
import type { DockerEngine } from '../engine.js';
import { DeployError } from '../../../components/errors.js';
import { listFolderArgs, readChecksumsArgs, snapshotFolder, type SnapshotSpec } from './snapshot-commands.js';
import { parseSnapshotFileName, type SnapshotFileKind } from './snapshot-name.js';

export interface Snapshot {
  /** File name in the snapshot folder, e.g. `trapperkeeper_20261123T101500Z_3f2a9c1d.dump`. */
  name: string;
  /** Path inside the database container. */
  path: string;
  database: string;
  takenAt: Date;
  commit: string;
  size: number;
  /** From the checksum file; absent when there is none (or it is malformed). */
  sha256?: string;
  /**
   * It has a well-formed checksum file naming it: written only after the dump passed a full
   * read. `verifySnapshot` checks the bytes again.
   */
  verified: boolean;
}

/** What an attempt leaves besides a verified snapshot: a partial dump, a failure record, a lone checksum. */
export interface SnapshotTrace {
  name: string;
  kind: Exclude<SnapshotFileKind, 'dump'> | 'orphan-checksum';
  /** The attempt's time (from the name). */
  takenAt: Date;
  size: number;
}

export interface SnapshotFolder {
  dir: string;
  /** Oldest first. */
  snapshots: Snapshot[];
  /** Partial dumps, failure records and checksum files without their dump; oldest first. */
  traces: SnapshotTrace[];
}

/** Reads the snapshot folder of this database (files of other databases and others are ignored). */
export async function readSnapshotFolder(engine: DockerEngine, spec: SnapshotSpec): Promise<SnapshotFolder> {
  const listing = await runOrExplain(engine, spec, listFolderArgs(spec));
  const hasChecksums = listing.split('\n').some((line) => line.endsWith('.dump.sha256'));
  const checksums = hasChecksums ? await runOrExplain(engine, spec, readChecksumsArgs(spec)) : '';
  return describeSnapshotFolder(spec, listing, checksums);
}

export async function listSnapshots(engine: DockerEngine, spec: SnapshotSpec): Promise<Snapshot[]> {
  return (await readSnapshotFolder(engine, spec)).snapshots;
}

/** The newest verified snapshot, if any. */
export async function latestSnapshot(engine: DockerEngine, spec: SnapshotSpec): Promise<Snapshot | undefined> {
  return newestVerified(await listSnapshots(engine, spec));
}

export { newestVerified };

/** Pure: the folder from `find ... stat --format='%s %n'` lines and the checksum files' lines. */
export function describeSnapshotFolder(spec: SnapshotSpec, listing: string, checksums: string): SnapshotFolder {
  const dir = snapshotFolder(spec);
  const database = spec.database.name;
  const checksumByDump = new Map<string, string>();
  for (const line of checksums.split('\n')) {
    const match = /^([0-9a-f]{64}) [ *](\S+)$/.exec(line.trim());
    if (match) checksumByDump.set(match[2]!, match[1]!);
  }

  const files = listing
    .split('\n')
    .map((line) => /^(\d+) (.+)$/.exec(line.trim()))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ size: Number(match[1]), name: match[2]!.slice(match[2]!.lastIndexOf('/') + 1) }));
  const dumpNames = new Set(files.filter((file) => parseSnapshotFileName(database, file.name)?.kind === 'dump').map((file) => file.name));
  const checksumFiles = new Set(files.map((file) => file.name).filter((name) => parseSnapshotFileName(database, name)?.kind === 'checksum'));

  const snapshots: Snapshot[] = [];
  const traces: SnapshotTrace[] = [];
  for (const file of files) {
    const parsed = parseSnapshotFileName(database, file.name);
    if (!parsed) continue;
    if (parsed.kind === 'dump') {
      const sha256 = checksumFiles.has(`${file.name}.sha256`) ? checksumByDump.get(file.name) : undefined;
      snapshots.push({
        name: file.name,
        path: `${dir}/${file.name}`,
        database,
        takenAt: parsed.takenAt,
        commit: parsed.commit,
        size: file.size,
        ...(sha256 ? { sha256 } : {}),
        verified: sha256 !== undefined,
      });
    } else if (parsed.kind === 'checksum') {
      if (!dumpNames.has(parsed.dumpName)) traces.push({ name: file.name, kind: 'orphan-checksum', takenAt: parsed.takenAt, size: file.size });
    } else {
      traces.push({ name: file.name, kind: parsed.kind, takenAt: parsed.takenAt, size: file.size });
    }
  }
  return { dir, snapshots: snapshots.sort(byTime), traces: traces.sort(byTime) };
}

function byTime(a: { takenAt: Date; name: string }, b: { takenAt: Date; name: string }): number {
  return a.takenAt.getTime() - b.takenAt.getTime() || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

async function runOrExplain(engine: DockerEngine, spec: SnapshotSpec, args: string[]): Promise<string> {
  const result = await engine.exec(args);
  if (result.exitCode === 0) return result.stdout;
  throw new DeployError(
    `Cannot read the snapshot folder ${spec.snapshots.dir} in container ${spec.database.container}: ${result.stderr.trim() || `exit ${result.exitCode}`}`,
    `check that the database container runs and has the snapshot volume mounted at ${spec.snapshots.dir} (docker container inspect ${spec.database.container})`,
  );
}
