import type { DockerEngine } from '../engine.js';
import { DeployError } from '../../../components/errors.js';
import type { DeployEvents } from '../../../components/events/deploy-events.js';
import type { ReleaseSpec } from '../spec.js';
import {
  createDatabaseArgs,
  dropDatabaseArgs,
  parseSha256Output,
  pgRestoreIntoArgs,
  sha256Args,
  snapshotFolder,
  type SnapshotSpec,
} from './snapshot-commands.js';
import type { Snapshot } from './snapshot-folder.js';
import { formatSnapshotTime, isSnapshotDatabaseName } from './snapshot-name.js';
import { findSnapshot } from './verify-snapshot.js';

export interface RestoreResult {
  snapshot: Snapshot;
  database: string;
  durationMs: number;
}

/**
 * Restores a verified snapshot into a NEW database `targetDb` (created here; refused when it is
 * the live database: replacing that is the swap in `restoreInstructions`). The checksum is
 * checked first; the restore is one transaction, and a failed one drops the database it created.
 */
export async function restoreSnapshot(
  engine: DockerEngine,
  spec: SnapshotSpec,
  name: string,
  targetDb: string,
  options: { events?: DeployEvents } = {},
): Promise<RestoreResult> {
  const started = performance.now();
  if (!isSnapshotDatabaseName(targetDb)) throw new DeployError(`Cannot restore into ${JSON.stringify(targetDb)}: not a plain database name`, 'use letters, digits, "_", "." or "-" (at most 63)');
  if (targetDb === spec.database.name) {
    throw new DeployError(
      `Refusing to restore ${name} over the live database ${targetDb}`,
      'restore into a new database, then swap the names as the restore procedure says (restoreInstructions)',
    );
  }
  const snapshot = await findSnapshot(engine, spec, name);
  if (!snapshot.sha256) {
    throw new DeployError(`Snapshot ${name} was never verified (no checksum file)`, `take a new snapshot, or check this one with verifySnapshot`);
  }
  const checksum = await engine.exec(sha256Args(spec, snapshot.path), { timeoutMs: 3_600_000 });
  const actual = checksum.exitCode === 0 ? parseSha256Output(checksum.stdout) : undefined;
  if (actual !== snapshot.sha256) {
    throw new DeployError(
      `Snapshot ${name} does not match its recorded checksum (${actual ?? checksum.stderr.trim()} vs ${snapshot.sha256}); nothing was restored`,
      'restore an earlier snapshot (listSnapshots); this file was changed or damaged after it was taken',
    );
  }

  const create = await engine.exec(createDatabaseArgs(spec, targetDb));
  if (create.exitCode !== 0) {
    throw new DeployError(`Cannot create database ${targetDb} for the restore: ${create.stderr.trim()}`, `pick a database name that does not exist yet`);
  }
  const restore = await engine.exec(pgRestoreIntoArgs(spec, snapshot.path, targetDb), { timeoutMs: 6 * 3_600_000 });
  if (restore.exitCode !== 0) {
    const drop = await engine.exec(dropDatabaseArgs(spec, targetDb));
    throw new DeployError(
      `Restoring ${name} into ${targetDb} failed: ${restore.stderr.trim().split('\n').slice(-5).join(' | ')}` +
        (drop.exitCode === 0 ? `; ${targetDb} was dropped again` : `; ${targetDb} could not be dropped: ${drop.stderr.trim()}`),
      `check the error above (docker logs ${spec.database.container}), then restore again`,
    );
  }
  const durationMs = Math.round(performance.now() - started);
  options.events?.logger.info({ event: 'snapshot.restored', snapshot: name, database: targetDb, durationMs }, 'snapshot restored');
  return { snapshot, database: targetDb, durationMs };
}

/**
 * The manual restore procedure for one snapshot, printed with the rollback warning: rolling the
 * app back never rolls the database back.
 */
export function restoreInstructions(spec: SnapshotSpec & Partial<Pick<ReleaseSpec, 'stack'>>, snapshot: Pick<Snapshot, 'name' | 'takenAt' | 'commit' | 'sha256'>): string {
  const dir = snapshotFolder(spec);
  const { container, user, name: db } = spec.database;
  const stamp = formatSnapshotTime(snapshot.takenAt).toLowerCase();
  const restored = `${db}_restored_${stamp}`.slice(0, 63);
  const previous = `${db}_before_restore_${stamp}`.slice(0, 63);
  const rollback = spec.stack ? `pulumi config set --path release.rollbackTo <release> --stack ${spec.stack} && pulumi up --stack ${spec.stack}` : 'pulumi config set --path release.rollbackTo <release> && pulumi up';
  return [
    `Rolling back the app does not roll back the database. The snapshot taken before this release's migrations is`,
    `  ${dir}/${snapshot.name} in container ${container} (taken ${snapshot.takenAt.toISOString()}, commit ${snapshot.commit}${snapshot.sha256 ? `, sha256 ${snapshot.sha256}` : ''}).`,
    `To restore it (every write since ${snapshot.takenAt.toISOString()} is lost):`,
    `  1. check it:  docker exec ${container} sh -c 'cd ${dir} && sha256sum -c ${snapshot.name}.sha256'`,
    `  2. restore it into a new database:`,
    `       docker exec ${container} createdb --username=${user} ${restored}`,
    `       docker exec ${container} pg_restore --username=${user} --dbname=${restored} --exit-on-error --single-transaction ${dir}/${snapshot.name}`,
    `  3. stop the app containers (nothing may stay connected to ${db}), then swap the databases:`,
    `       docker exec ${container} psql --username=${user} --dbname=postgres -c 'ALTER DATABASE "${db}" RENAME TO "${previous}"' -c 'ALTER DATABASE "${restored}" RENAME TO "${db}"'`,
    `  4. run the app version built from commit ${snapshot.commit} (${rollback}), and keep ${previous} until you are sure.`,
  ].join('\n');
}
