import { posix } from 'node:path';
import { DeployError } from '../../../components/errors.js';
import type { ReleaseSpec } from '../spec.js';
import { isSnapshotDatabaseName } from './snapshot-name.js';

/**
 * The docker commands behind snapshots, as argv arrays. Every PostgreSQL tool runs inside the
 * database container (`docker exec`) over its local socket as the configured user: no host, no
 * password, nothing secret on any command line. Each step is its own command so that each exit
 * status is checked; no pipe joins two of them.
 */
export type SnapshotSpec = Pick<ReleaseSpec, 'database' | 'snapshots'>;

/** Upper bound of one pg_dump, enforced inside the container too (`timeout`). */
export const DEFAULT_SNAPSHOT_TIMEOUT_MS = 3_600_000;

/** Refuses a spec whose names would make unsafe paths or commands; returns the normalised folder. */
export function snapshotFolder(spec: SnapshotSpec): string {
  const dir = spec.snapshots.dir.replace(/\/+$/, '');
  const problems: string[] = [];
  if (!isSnapshotDatabaseName(spec.database.name)) {
    problems.push(`database.name ${JSON.stringify(spec.database.name)} must be letters, digits, "_", "." or "-" (at most 63)`);
  }
  if (!dir.startsWith('/') || posix.normalize(dir) !== dir || /\s/.test(dir)) {
    problems.push(`snapshots.dir ${JSON.stringify(spec.snapshots.dir)} must be an absolute, normalised folder without spaces (the snapshot volume's mount point)`);
  }
  if (problems.length > 0) throw new DeployError(`Invalid snapshot settings: ${problems.join('; ')}`, 'fix the stack config and run the release again');
  return dir;
}

export function snapshotPath(spec: SnapshotSpec, fileName: string): string {
  return `${snapshotFolder(spec)}/${fileName}`;
}

/** State and mounts of the database container: the snapshot folder must be a volume. */
export function inspectDatabaseContainerArgs(spec: SnapshotSpec): string[] {
  return ['container', 'inspect', '--format', '{{json .State.Running}} {{json .Mounts}}', spec.database.container];
}

export function pgDumpArgs(spec: SnapshotSpec, partialPath: string, timeoutMs = DEFAULT_SNAPSHOT_TIMEOUT_MS): string[] {
  return [
    'exec', spec.database.container,
    // umask: a dump holds every row (password hashes included); only its owner reads it.
    'sh', '-c', 'umask 077 && exec "$@"', 'sh',
    'timeout', '--kill-after=10s', `${Math.ceil(timeoutMs / 1000)}s`,
    'pg_dump', '--format=custom', `--lock-wait-timeout=${spec.snapshots.lockWaitTimeoutMs}`, '--no-password',
    `--username=${spec.database.user}`, `--dbname=${spec.database.name}`, `--file=${partialPath}`,
  ];
}

/** A full read of every data block (not just the table of contents). */
export function pgRestoreReadArgs(spec: SnapshotSpec, path: string): string[] {
  return ['exec', spec.database.container, 'pg_restore', '--file=/dev/null', path];
}

export function sha256Args(spec: SnapshotSpec, path: string): string[] {
  return ['exec', spec.database.container, 'sha256sum', '--', path];
}

export function fileSizeArgs(spec: SnapshotSpec, path: string): string[] {
  return ['exec', spec.database.container, 'stat', '--format=%s', '--', path];
}

/**
 * Writes a new file, refusing (noclobber) to overwrite one that exists; the content is the
 * argument appended after these (`[...writeNewFileArgs(spec, path), content]`). An argument, not
 * stdin: under load, `docker exec --interactive` can lose the end of its input, and the write
 * then never finishes (seen: a checksum file written, its `cat` still waiting minutes later).
 */
export function writeNewFileArgs(spec: SnapshotSpec, path: string): string[] {
  return ['exec', spec.database.container, 'sh', '-c', 'umask 077 && set -C && printf %s "$2" > "$1"', 'sh', path];
}

/** Gives the verified dump its final name; a hard link fails rather than replace an existing file. */
export function publishArgs(spec: SnapshotSpec, partialPath: string, finalPath: string): string[] {
  return ['exec', spec.database.container, 'ln', '--no-target-directory', '--', partialPath, finalPath];
}

export function removeFilesArgs(spec: SnapshotSpec, paths: readonly string[]): string[] {
  return ['exec', spec.database.container, 'rm', '-f', '--', ...paths];
}

/** `<size> <path>` per regular file of the snapshot folder. */
export function listFolderArgs(spec: SnapshotSpec): string[] {
  return [
    'exec', spec.database.container, 'find', snapshotFolder(spec), '-mindepth', '1', '-maxdepth', '1', '-type', 'f',
    '-exec', 'stat', '--format=%s %n', '--', '{}', '+',
  ];
}

/** The contents of this database's checksum files (`<sha256>  <dump name>` lines). */
export function readChecksumsArgs(spec: SnapshotSpec): string[] {
  return [
    'exec', spec.database.container, 'find', snapshotFolder(spec), '-mindepth', '1', '-maxdepth', '1', '-type', 'f',
    '-name', `${spec.database.name}_*.dump.sha256`, '-exec', 'cat', '--', '{}', '+',
  ];
}

export function createDatabaseArgs(spec: SnapshotSpec, database: string): string[] {
  return ['exec', spec.database.container, 'createdb', '--no-password', `--username=${spec.database.user}`, '--', database];
}

export function dropDatabaseArgs(spec: SnapshotSpec, database: string): string[] {
  return ['exec', spec.database.container, 'dropdb', '--no-password', '--if-exists', `--username=${spec.database.user}`, '--', database];
}

/** One transaction: a restore that fails leaves the target database empty. */
export function pgRestoreIntoArgs(spec: SnapshotSpec, path: string, database: string): string[] {
  return [
    'exec', spec.database.container, 'pg_restore', '--no-password', `--username=${spec.database.user}`, `--dbname=${database}`,
    '--exit-on-error', '--single-transaction', path,
  ];
}

/** The line `sha256sum -c` reads. */
export function checksumLine(sha256: string, dumpName: string): string {
  return `${sha256}  ${dumpName}\n`;
}

export function parseSha256Output(stdout: string): string | undefined {
  return /^([0-9a-f]{64})\s/.exec(stdout)?.[1];
}
