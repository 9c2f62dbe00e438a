import { UserError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { REDACTED_PASSWORD, redactDatabaseUrl } from './connect.js';
import { acquireMigrationLock, isMigrationLockHeld, supportsMigrationLock } from './migration-lock.js';
import { loadMigrationFiles, type MigrationFile } from './migration-files.js';
import {
  deleteMigrationRow,
  ensureMigrationsTable,
  lastAppliedMigration,
  readMigrationRows,
  recordApplied,
  recordFailed,
  recordRunning,
  type MigrationRow,
} from './migrations-table.js';
import { splitStatements } from './sql-text.js';
import type { Database, Dialect } from './types.js';

export interface MigrationOptions {
  /** Folder of migration files (or of per-dialect folders); default: env TK_MIGRATIONS_DIR, then the repository's migrations/. */
  dir?: string;
  logger?: Logger;
  /** How long to wait for another migrator holding the lock. @default 600_000 */
  lockTimeoutMs?: number;
}

export type MigrationState = 'applied' | 'pending' | 'failed' | 'running' | 'checksum-mismatch';

export interface MigrationStatus {
  id: string;
  status: MigrationState;
  /** The file's checksum (the recorded one when the file no longer exists). */
  checksum: string;
  /** The checksum recorded when it was applied, when it differs from the file's. */
  recordedChecksum?: string;
  appliedAt?: string;
  executionMs?: number;
  error?: string;
}

/** MySQL and MariaDB commit DDL implicitly, so a failed file may be half applied there. */
const TRANSACTIONAL_DDL: Record<Dialect, boolean> = { sqlite: true, postgres: true, mysql: false };

const INTERRUPTED = 'interrupted: the migrating process stopped before it finished';

/**
 * Applies every pending migration file in name order, holding the cross-process migration
 * lock throughout, so concurrent migrators apply each file exactly once. Refuses (UserError,
 * nothing applied) when an applied file's checksum changed or a migration failed earlier.
 */
export async function runMigrations(db: Database, options: MigrationOptions = {}): Promise<{ applied: string[] }> {
  const files = loadMigrationFiles(db.dialect, options.dir);
  const lock = await acquireMigrationLock(db, { timeoutMs: options.lockTimeoutMs, logger: options.logger });
  try {
    await ensureMigrationsTable(db);
    const rows = await readMigrationRows(db);
    // We hold the lock, so a row still marked running belongs to a process that died.
    for (const row of rows.filter((r) => r.status === 'running')) {
      await recordFailed(db, row.id, INTERRUPTED, null);
      row.status = 'failed';
      row.error = INTERRUPTED;
    }
    refuseFailed(db, rows);
    refuseChangedChecksums(db, files, rows);
    refuseOutOfOrder(db, files, rows);

    const recorded = new Set(rows.map((row) => row.id));
    const applied: string[] = [];
    for (const file of files.filter((f) => !recorded.has(f.id))) {
      await applyMigration(db, file, options.logger);
      applied.push(file.id);
    }
    if (applied.length === 0) options.logger?.info({ database: db.redactedUrl }, 'database schema is up to date');
    return { applied };
  } finally {
    await lock.release();
  }
}

async function applyMigration(db: Database, file: MigrationFile, logger: Logger | undefined): Promise<void> {
  // Split at semicolons outside literals and comments; procedural BEGIN...END bodies are not
  // supported in migration files (see sql-text.ts).
  const statements = splitStatements(file.sql, db.dialect);
  // Committed before the file runs, so `migrate --status` shows it running, and a process
  // killed midway leaves a visible row (the lock is then free, so it reads as interrupted).
  await recordRunning(db, file.id, file.checksum);
  const started = performance.now();
  let current = 0;
  try {
    await db.transaction(async (tx) => {
      for (const [index, statement] of statements.entries()) {
        current = index;
        await tx.execute(statement);
      }
      if (TRANSACTIONAL_DDL[db.dialect]) await recordApplied(tx, file.id, performance.now() - started);
    });
    if (!TRANSACTIONAL_DDL[db.dialect]) await recordApplied(db, file.id, performance.now() - started);
  } catch (error) {
    const executionMs = performance.now() - started;
    const reason = `statement ${current + 1} of ${statements.length} failed: ${errorMessage(error)}\n${excerpt(statements[current] ?? '')}`;
    await recordFailed(db, file.id, reason, executionMs);
    logger?.error({ migration: file.id, executionMs: Math.round(executionMs), error: errorMessage(error) }, 'migration failed');
    throw new UserError(`Migration ${file.id} failed: ${reason}`, failedFix(db, file.id, current > 0));
  }
  const executionMs = Math.round(performance.now() - started);
  logger?.info({ migration: file.id, executionMs }, `applied migration ${file.id} in ${executionMs} ms`);
}

function refuseFailed(db: Database, rows: MigrationRow[]): void {
  const failed = rows.find((row) => row.status === 'failed');
  if (!failed) return;
  throw new UserError(
    `Migration ${failed.id} failed earlier and has not been resolved (${failed.error ?? 'no error recorded'}); no migration was applied`,
    failedFix(db, failed.id, true),
  );
}

/**
 * The command line an operator can paste. A URL with a password is not put on it (secrets
 * never go on argv; --db-url refuses them): it is named as the TK_DATABASE_URL to set.
 */
function migrateCommand(redactedUrl: string, options: { hasPassword: boolean; args?: string }): string {
  const command = `trapperkeeper migrate${options.args ? ` ${options.args}` : ''}`;
  return options.hasPassword
    ? `${command} with TK_DATABASE_URL=${redactedUrl} (the password in the URL or in TK_DATABASE_PASSWORD, never on the command line)`
    : `${command} --db-url ${redactedUrl}`;
}

function failedFix(db: Database, id: string, partlyRun: boolean): string {
  const resolve = `\`${migrateCommand(db.redactedUrl, { hasPassword: db.redactedUrl.includes(REDACTED_PASSWORD), args: `--resolve ${id}` })}\``;
  const state = TRANSACTIONAL_DDL[db.dialect]
    ? `Nothing of ${id} stayed applied (the ${db.dialect} transaction was rolled back).`
    : partlyRun
      ? `${db.dialect === 'mysql' ? 'MySQL/MariaDB' : db.dialect} cannot roll back DDL: statements of ${id} that ran before the failure stayed applied; undo them by hand.`
      : `No statement of ${id} took effect.`;
  return `${state} Fix the cause (the file, or the data it trips on), run ${resolve} to clear the failed state, then run \`trapperkeeper migrate\` again.`;
}

function refuseChangedChecksums(db: Database, files: MigrationFile[], rows: MigrationRow[]): void {
  const byId = new Map(files.map((file) => [file.id, file]));
  const changed = rows.filter((row) => row.status === 'applied' && byId.has(row.id) && byId.get(row.id)?.checksum !== row.checksum);
  if (changed.length === 0) return;
  const details = changed.map((row) => `${row.id}.sql (applied with checksum ${row.checksum}, file now has ${byId.get(row.id)?.checksum})`);
  throw new UserError(
    `Applied migration file changed: ${details.join('; ')}; no migration was applied`,
    `Restore the original file (applied migrations must never be edited) and put the change in a new migration file. Database: ${db.redactedUrl}`,
  );
}

/**
 * A file added with a name that sorts before an applied one (a branch merged late, a typo in
 * its number) would run after migrations written later than it, on a schema it was not
 * written for. Refused, so the author gives it a name that states its real place.
 */
function refuseOutOfOrder(db: Database, files: MigrationFile[], rows: MigrationRow[]): void {
  const recorded = new Set(rows.map((row) => row.id));
  let lastApplied = -1;
  files.forEach((file, index) => {
    if (recorded.has(file.id)) lastApplied = index;
  });
  const early = files.slice(0, lastApplied + 1).filter((file) => !recorded.has(file.id));
  const last = files[lastApplied];
  if (early.length === 0 || !last) return;
  const names = early.map((file) => `${file.id}.sql`).join(', ');
  const example = renamedAfter(early[0]!.id, last.id);
  throw new UserError(
    `Migration file${early.length === 1 ? '' : 's'} ${names} ${early.length === 1 ? 'sorts' : 'sort'} before ${last.id}.sql, which is already applied; `
      + 'migrations apply in name order, so applying it now would run it out of order; no migration was applied',
    `Rename ${early.length === 1 ? 'it' : 'each'} so it sorts after ${last.id} (for example ${example}.sql), check that its SQL still fits the schema `
      + `as ${last.id} left it, then run \`trapperkeeper migrate\` again. Database: ${db.redactedUrl}`,
  );
}

/** `file`'s name with the number that follows `last`'s: 002b_add_index after 007_x gives 008_add_index. */
function renamedAfter(file: string, last: string): string {
  const number = /^(\d+)/.exec(last)?.[1];
  const rest = file.replace(/^\d+[A-Za-z]?[_-]?/, '') || file;
  if (number === undefined) return `${last}_${rest}`;
  return `${String(Number(number) + 1).padStart(number.length, '0')}_${rest}`;
}

/** Each file's state (plus recorded migrations whose file is gone), for `migrate --status`. */
export async function migrationStatus(db: Database, options: Pick<MigrationOptions, 'dir'> = {}): Promise<MigrationStatus[]> {
  const files = loadMigrationFiles(db.dialect, options.dir);
  const rows = await readMigrationRows(db);
  const rowsById = new Map(rows.map((row) => [row.id, row]));
  const lockHeld = rows.some((row) => row.status === 'running') && supportsMigrationLock(db) ? await isMigrationLockHeld(db) : false;

  const fromFiles = files.map((file) => describe(file.id, file.checksum, rowsById.get(file.id), lockHeld));
  const fileIds = new Set(files.map((file) => file.id));
  const orphans = rows.filter((row) => !fileIds.has(row.id)).map((row) => describe(row.id, row.checksum, row, lockHeld));
  return [...fromFiles, ...orphans].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function describe(id: string, checksum: string, row: MigrationRow | undefined, lockHeld: boolean): MigrationStatus {
  if (!row) return { id, status: 'pending', checksum };
  const timing = {
    ...(row.applied_at ? { appliedAt: row.applied_at } : {}),
    ...(row.execution_ms !== null ? { executionMs: row.execution_ms } : {}),
  };
  switch (row.status) {
    case 'applied':
      return row.checksum === checksum
        ? { id, status: 'applied', checksum, ...timing }
        : { id, status: 'checksum-mismatch', checksum, recordedChecksum: row.checksum, ...timing };
    case 'running':
      return lockHeld ? { id, status: 'running', checksum } : { id, status: 'failed', checksum, error: INTERRUPTED };
    default:
      return { id, status: 'failed', checksum, ...timing, error: row.error ?? 'no error recorded' };
  }
}

/**
 * Throws `Database schema out of date ...` when any migration is pending, failed, running or
 * changed. `url` is the URL the operator used; it is printed with its password masked.
 */
export async function assertSchemaCurrent(db: Database, options: { url?: string; dir?: string } = {}): Promise<void> {
  const statuses = await migrationStatus(db, { dir: options.dir });
  const problems = statuses.filter((entry) => entry.status !== 'applied');
  if (problems.length === 0) return;
  const summary = problems.map((entry) => `${entry.id} is ${entry.status}`).join(', ');
  const url = options.url ? redactDatabaseUrl(options.url) : db.redactedUrl;
  const hasPassword = url.includes(REDACTED_PASSWORD);
  throw new UserError(`Database schema out of date: ${summary}`, migrateCommand(url, { hasPassword }));
}

/** The id of the last applied migration, or null on a database never migrated. */
export async function currentSchemaVersion(db: Database): Promise<string | null> {
  return lastAppliedMigration(db);
}

/**
 * Clears a failed (or interrupted) migration's record so the next `migrate` runs it again.
 * The operator calls it (`trapperkeeper migrate --resolve <id>`) after fixing the cause.
 */
export async function resolveFailedMigration(
  db: Database,
  id: string,
  options: Pick<MigrationOptions, 'logger'> = {},
): Promise<{ id: string; previousStatus: 'failed' | 'running' }> {
  const lock = await acquireMigrationLock(db, { timeoutMs: 0 }).catch((error: unknown) => {
    if (error instanceof UserError) {
      throw new UserError(`A migrator is running on ${db.redactedUrl}; cannot resolve ${id} now`, 'Wait for it to finish, then check `trapperkeeper migrate --status`');
    }
    throw error;
  });
  try {
    const rows = await readMigrationRows(db);
    const row = rows.find((r) => r.id === id);
    const unresolved = rows.filter((r) => r.status !== 'applied').map((r) => r.id);
    if (!row || row.status === 'applied') {
      throw new UserError(
        row ? `Migration ${id} is applied; there is nothing to resolve` : `No migration named ${id} has been recorded`,
        unresolved.length > 0 ? `Failed migrations: ${unresolved.join(', ')}` : 'No migration is in a failed state; see `trapperkeeper migrate --status`',
      );
    }
    await deleteMigrationRow(db, id);
    options.logger?.info({ migration: id, previousStatus: row.status }, `cleared the failed state of migration ${id}`);
    return { id, previousStatus: row.status };
  } finally {
    await lock.release();
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function excerpt(statement: string): string {
  const oneLine = statement.replace(/\s+/g, ' ').trim();
  return `  in: ${oneLine.length > 200 ? `${oneLine.slice(0, 200)}...` : oneLine}`;
}
