import type { DockerEngine, DockerResult } from '../engine.js';
import { DeployError } from '../../../components/errors.js';
import type { DeployEvents } from '../../../components/events/deploy-events.js';
import {
  DEFAULT_SNAPSHOT_TIMEOUT_MS,
  checksumLine,
  fileSizeArgs,
  inspectDatabaseContainerArgs,
  parseSha256Output,
  pgDumpArgs,
  pgRestoreReadArgs,
  publishArgs,
  removeFilesArgs,
  sha256Args,
  snapshotFolder,
  writeNewFileArgs,
  type SnapshotSpec,
} from './snapshot-commands.js';
import type { Snapshot } from './snapshot-folder.js';
import { CHECKSUM_SUFFIX, FAILED_SUFFIX, PARTIAL_SUFFIX, isSnapshotCommit, snapshotDumpName } from './snapshot-name.js';

export interface TakeSnapshotOptions {
  /** Git sha of the release about to migrate; part of the file name. */
  commit: string;
  /** The snapshot's time (file name). @default now */
  now?: Date;
  events?: DeployEvents;
  /** @default DEFAULT_SNAPSHOT_TIMEOUT_MS */
  timeoutMs?: number;
}

export interface SnapshotPlan {
  name: string;
  path: string;
  partialPath: string;
  checksumPath: string;
  failedPath: string;
  takenAt: Date;
  commit: string;
  commands: {
    inspect: string[];
    dump: string[];
    read: string[];
    sha256: string[];
    size: string[];
    writeChecksum: string[];
    publish: string[];
    removePartial: string[];
    writeFailure: string[];
  };
}

/** A step that writes, renames or stats one small file: minutes mean the engine is stuck, not busy. */
const SMALL_STEP_TIMEOUT_MS = 120_000;

/** Pure: every name and command of one snapshot attempt. */
export function planSnapshot(spec: SnapshotSpec, options: { commit: string; now: Date; timeoutMs?: number }): SnapshotPlan {
  if (!isSnapshotCommit(options.commit)) {
    throw new DeployError(`Snapshot commit ${JSON.stringify(options.commit)} is not a git sha`, 'pass the release image\'s commit (letters and digits only)');
  }
  const dir = snapshotFolder(spec);
  const name = snapshotDumpName(spec.database.name, options.now, options.commit);
  const path = `${dir}/${name}`;
  const stem = path.slice(0, -'.dump'.length);
  const partialPath = `${stem}${PARTIAL_SUFFIX}`;
  const checksumPath = `${stem}${CHECKSUM_SUFFIX}`;
  const failedPath = `${stem}${FAILED_SUFFIX}`;
  return {
    name,
    path,
    partialPath,
    checksumPath,
    failedPath,
    takenAt: new Date(Math.floor(options.now.getTime() / 1000) * 1000),
    commit: options.commit,
    commands: {
      inspect: inspectDatabaseContainerArgs(spec),
      dump: pgDumpArgs(spec, partialPath, options.timeoutMs),
      read: pgRestoreReadArgs(spec, partialPath),
      sha256: sha256Args(spec, partialPath),
      size: fileSizeArgs(spec, partialPath),
      writeChecksum: writeNewFileArgs(spec, checksumPath),
      publish: publishArgs(spec, partialPath, path),
      removePartial: removeFilesArgs(spec, [partialPath]),
      writeFailure: writeNewFileArgs(spec, failedPath),
    },
  };
}

/**
 * Dumps the database before migrations: pg_dump (custom format) inside the database container to
 * a partial file, a full read with pg_restore, the sha256, then the checksum file and the final
 * name. Any failure throws DeployError after removing this attempt's own files and leaving a
 * `.dump.failed` record (which holds retention back); other snapshots are never touched.
 */
export async function takeSnapshot(engine: DockerEngine, spec: SnapshotSpec, options: TakeSnapshotOptions): Promise<Snapshot> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? DEFAULT_SNAPSHOT_TIMEOUT_MS;
  const plan = planSnapshot(spec, { commit: options.commit, now: options.now ?? new Date(), timeoutMs });
  await requireSnapshotVolume(engine, spec, plan.commands.inspect);

  let wroteChecksum = false;
  try {
    await step(engine, spec, 'pg_dump', plan.commands.dump, { timeoutMs: timeoutMs + 30_000 });
    await step(engine, spec, 'verification (pg_restore full read)', plan.commands.read, { timeoutMs: timeoutMs + 30_000 });
    const sha256 = parseSha256Output(await step(engine, spec, 'sha256sum', plan.commands.sha256, { timeoutMs }));
    if (!sha256) throw new SnapshotStepError('sha256sum', 'printed no checksum', 'check the container\'s coreutils');
    const size = Number((await step(engine, spec, 'stat', plan.commands.size, { timeoutMs: SMALL_STEP_TIMEOUT_MS })).trim());
    await step(engine, spec, 'writing the checksum file', [...plan.commands.writeChecksum, checksumLine(sha256, plan.name)], { timeoutMs: SMALL_STEP_TIMEOUT_MS });
    wroteChecksum = true;
    await step(engine, spec, 'publishing under the final name', plan.commands.publish, { timeoutMs: SMALL_STEP_TIMEOUT_MS });
    const removed = await engine.exec(plan.commands.removePartial, { timeoutMs: SMALL_STEP_TIMEOUT_MS });
    if (removed.exitCode !== 0) {
      options.events?.logger.warn({ event: 'snapshot.partial-left', file: plan.partialPath, error: removed.stderr.trim() }, 'could not remove the partial dump');
    }
    const durationMs = Math.round(performance.now() - started);
    options.events?.emit('snapshot.taken', { snapshot: plan.name, database: spec.database.name, dir: snapshotFolder(spec), size, sha256, durationMs });
    return {
      name: plan.name,
      path: plan.path,
      database: spec.database.name,
      takenAt: plan.takenAt,
      commit: plan.commit,
      size,
      sha256,
      verified: true,
    };
  } catch (error) {
    const cleanup = await removeOwnFiles(engine, spec, plan, wroteChecksum);
    const reason = error instanceof SnapshotStepError ? error.reason : (error as Error).message;
    const record = await engine.exec(
      [...plan.commands.writeFailure, `${new Date().toISOString()} snapshot ${plan.name} failed at ${error instanceof SnapshotStepError ? error.step : 'an unexpected step'}: ${reason}\n`],
      { timeoutMs: SMALL_STEP_TIMEOUT_MS },
    );
    const notes = [
      ...cleanup,
      ...(record.exitCode === 0 ? [] : [`the failure record ${plan.failedPath} could not be written: ${record.stderr.trim()}`]),
    ];
    options.events?.logger.error({ event: 'snapshot.failed', snapshot: plan.name, database: spec.database.name, reason }, 'snapshot failed');
    if (error instanceof SnapshotStepError) {
      throw new DeployError(
        `Snapshot of database ${spec.database.name} failed at ${error.step}: ${error.reason}; no migration was run` +
          (notes.length > 0 ? ` (${notes.join('; ')})` : ''),
        error.fix,
      );
    }
    throw error;
  }
}

/** The snapshot folder must be a mounted volume: a folder in the container's own layer dies with it. */
async function requireSnapshotVolume(engine: DockerEngine, spec: SnapshotSpec, args: string[]): Promise<void> {
  const dir = snapshotFolder(spec);
  const container = spec.database.container;
  const result = await engine.exec(args);
  if (result.exitCode !== 0) {
    throw new DeployError(
      `Cannot take a snapshot: the database container ${container} was not found (${result.stderr.trim()}); no migration was run`,
      `start the database (docker ps -a --filter name=${container}) and run the release again`,
    );
  }
  const [running, mountsJson] = splitOnce(result.stdout.trim(), ' ');
  const mounts = JSON.parse(mountsJson || '[]') as Array<{ Destination?: string }> | null;
  if (running !== 'true') {
    throw new DeployError(
      `Cannot take a snapshot: the database container ${container} is not running; no migration was run`,
      `docker start ${container}, check \`docker logs ${container}\`, then run the release again`,
    );
  }
  if (!(mounts ?? []).some((mount) => mount.Destination?.replace(/\/+$/, '') === dir)) {
    throw new DeployError(
      `Cannot take a snapshot: ${dir} is not a mounted volume in ${container}, so snapshots would vanish with the container; no migration was run`,
      `mount the snapshot volume at ${dir} (docker run -v <prefix>-snapshots:${dir} ...) or set snapshots.dir to its mount point`,
    );
  }
}

class SnapshotStepError extends Error {
  constructor(
    readonly step: string,
    readonly reason: string,
    readonly fix: string,
  ) {
    super(`${step}: ${reason}`);
  }
}

async function step(
  engine: DockerEngine,
  spec: SnapshotSpec,
  name: string,
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<string> {
  const result = await engine.exec(args, options);
  if (result.exitCode === 0) return result.stdout;
  throw new SnapshotStepError(name, describeFailure(result), fixFor(spec, result));
}

function describeFailure(result: DockerResult): string {
  const tail = result.stderr.trim().split('\n').slice(-5).join(' | ');
  if (result.exitCode === 124) return `timed out (${tail || 'exit 124'})`;
  return `exit ${result.exitCode}${tail ? `: ${tail}` : ''}`;
}

function fixFor(spec: SnapshotSpec, result: DockerResult): string {
  const container = spec.database.container;
  if (isMissingBinary(result)) {
    return `the database container ${container} must provide pg_dump, pg_restore, sha256sum and timeout (the official postgres image does); a snapshot is never skipped`;
  }
  if (/could not obtain lock|lock timeout|LOCK TABLE/i.test(result.stderr)) {
    return (
      `a session holds a lock pg_dump waited for longer than ${spec.snapshots.lockWaitTimeoutMs} ms; find it with ` +
      `docker exec ${container} psql --username=${spec.database.user} --dbname=${spec.database.name} -c "SELECT pid, state, xact_start, query FROM pg_stat_activity WHERE datname = current_database()", ` +
      'let it finish (or raise snapshots.lockWaitTimeoutMs), then run the release again'
    );
  }
  if (/No space left on device/i.test(result.stderr)) return `free disk space on the snapshot volume (${spec.snapshots.dir}), then run the release again`;
  return `read the error above, fix its cause (docker logs ${container} may say more), then run the release again; the snapshot runs before any migration`;
}

function isMissingBinary(result: DockerResult): boolean {
  return (result.exitCode === 126 || result.exitCode === 127) && /not found|No such file|executable file/i.test(result.stderr);
}

async function removeOwnFiles(engine: DockerEngine, spec: SnapshotSpec, plan: SnapshotPlan, wroteChecksum: boolean): Promise<string[]> {
  // Only this attempt's names: the partial always, the checksum file only if this attempt wrote it
  // (it refuses to overwrite), never the final name (publishing is the last step that can fail).
  const paths = [plan.partialPath, ...(wroteChecksum ? [plan.checksumPath] : [])];
  const result = await engine.exec(removeFilesArgs(spec, paths));
  return result.exitCode === 0 ? [] : [`could not remove ${paths.join(', ')}: ${result.stderr.trim()}`];
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + separator.length)];
}
