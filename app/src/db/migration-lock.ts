import type { Logger } from '../log/logger.js';
import { UserError } from '../errors.js';
import type { Database } from './types.js';

/**
 * The cross-process lock that lets only one migrator work on a database at a time. Each
 * adapter takes it on a connection of its own, so the lock lives exactly as long as that
 * connection: when the process holding it dies, the server (or, for SQLite, the OS file
 * lock) lets it go.
 * - PostgreSQL: pg_try_advisory_lock (advisory locks are per database).
 * - MySQL/MariaDB: GET_LOCK with a name derived from the database name (names are server-wide).
 * - SQLite: BEGIN EXCLUSIVE held on a separate lock file next to the database file.
 */
export interface MigrationLock {
  release(): Promise<void>;
}

export interface MigrationLockSupport {
  /** Takes the lock if it is free right now; undefined when another session holds it. */
  tryAcquireMigrationLock(): Promise<MigrationLock | undefined>;
}

export function supportsMigrationLock(db: Database): db is Database & MigrationLockSupport {
  return typeof (db as Partial<MigrationLockSupport>).tryAcquireMigrationLock === 'function';
}

function lockingDatabase(db: Database): Database & MigrationLockSupport {
  if (!supportsMigrationLock(db)) {
    throw new Error(`The ${db.dialect} adapter cannot take a migration lock; open the database with openDatabase()`);
  }
  return db;
}

export interface AcquireOptions {
  /** How long to wait for another migrator to finish. @default 600_000 (10 min) */
  timeoutMs?: number;
  logger?: Logger;
}

/** Waits (polling with backoff) until the lock is free, then takes it. */
export async function acquireMigrationLock(db: Database, options: AcquireOptions = {}): Promise<MigrationLock> {
  const lockable = lockingDatabase(db);
  const timeoutMs = options.timeoutMs ?? 600_000;
  const started = Date.now();
  let delayMs = 50;
  let announced = false;
  for (;;) {
    const lock = await lockable.tryAcquireMigrationLock();
    if (lock) return lock;
    if (!announced) {
      options.logger?.info({ database: db.redactedUrl }, 'another migrator is running; waiting for it to finish');
      announced = true;
    }
    if (Date.now() - started >= timeoutMs) {
      throw new UserError(
        `Timed out after ${Math.round(timeoutMs / 1000)} s waiting for the migration lock on ${db.redactedUrl}: another migrator is still running`,
        'Wait for the other `trapperkeeper migrate` to finish (see `trapperkeeper migrate --status`), then run it again',
      );
    }
    await sleep(delayMs);
    delayMs = Math.min(delayMs * 2, 500);
  }
}

/** True when some session (this process included) holds the lock right now. */
export async function isMigrationLockHeld(db: Database): Promise<boolean> {
  const lock = await lockingDatabase(db).tryAcquireMigrationLock();
  if (!lock) return true;
  await lock.release();
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
