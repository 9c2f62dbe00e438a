import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { AsyncMutex } from './async-mutex.js';
import type { MigrationLock, MigrationLockSupport } from './migration-lock.js';
import type { Database, PoolStats, Queryable, Row, SqlValue } from './types.js';

type Connection = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement<unknown[], unknown>;

export interface SqliteOptions {
  /** How long SQLite itself waits on another process's lock before reporting SQLITE_BUSY. @default 5_000 */
  busyTimeoutMs?: number;
  /** How long we keep retrying (with backoff) a statement or transaction that still got SQLITE_BUSY. @default 15_000 */
  busyRetryMs?: number;
  /** Printed instead of the path in logs and errors. */
  redactedUrl?: string;
}

const IN_MEMORY = ':memory:';
const STATEMENT_CACHE_SIZE = 200;

/**
 * SQLite through better-sqlite3: one connection per process. sensor-api, web-ui and a migrate
 * process may share the file, so:
 * - WAL lets readers run beside the single writer; busy_timeout makes SQLite wait for the
 *   writer lock instead of failing at once.
 * - Transactions start with BEGIN IMMEDIATE (take the write lock up front, so a reader never has
 *   to upgrade and hit SQLITE_BUSY_SNAPSHOT) and are serialized in this process by a mutex, so
 *   two async transactions never interleave on the one connection. Statements outside a
 *   transaction wait for the mutex too, so they never slip into someone else's transaction.
 * - Whatever still hits SQLITE_BUSY/SQLITE_LOCKED is retried with backoff for busyRetryMs.
 * Note that better-sqlite3 is synchronous: while SQLite waits on busy_timeout the event loop waits too.
 */
export class SqliteDatabase implements Database, MigrationLockSupport {
  readonly dialect = 'sqlite' as const;
  readonly redactedUrl: string;
  private readonly connection: Connection;
  private readonly mutex = new AsyncMutex();
  private readonly activeTransaction = new AsyncLocalStorage<SqliteTransaction>();
  private readonly statements = new Map<string, Statement>();
  private readonly busyTimeoutMs: number;
  private readonly busyRetryMs: number;
  private migrationLockHeldInMemory = false;
  private closed = false;

  private constructor(readonly path: string, options: SqliteOptions) {
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
    this.busyRetryMs = options.busyRetryMs ?? 15_000;
    this.redactedUrl = options.redactedUrl ?? `sqlite://${path}`;
    if (path !== IN_MEMORY) mkdirSync(dirname(path), { recursive: true });
    this.connection = new BetterSqlite3(path, { timeout: this.busyTimeoutMs });
  }

  static async open(path: string, options: SqliteOptions = {}): Promise<SqliteDatabase> {
    const db = new SqliteDatabase(path, options);
    try {
      // Switching to WAL needs a moment of exclusive access, which another process opening
      // the same new file may hold: retry like any other busy statement.
      await db.retryWhileBusy(() => db.connection.pragma('journal_mode = WAL'));
      db.connection.pragma('synchronous = NORMAL');
      db.connection.pragma('foreign_keys = ON');
    } catch (error) {
      db.connection.close();
      throw error;
    }
    return db;
  }

  get file(): string | undefined {
    return this.path === IN_MEMORY ? undefined : this.path;
  }

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const tx = this.currentTransaction();
    if (tx) return tx.query<T>(sql, params);
    return this.serialized(() => this.retryWhileBusy(() => this.runQuery<T>(sql, params)));
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const tx = this.currentTransaction();
    if (tx) return tx.execute(sql, params);
    return this.serialized(() => this.retryWhileBusy(() => this.runExecute(sql, params)));
  }

  /**
   * A transaction started inside another one's callback (on this database) becomes a
   * savepoint of it: the single connection cannot hold two transactions at once.
   */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const outer = this.currentTransaction();
    if (outer) return outer.savepoint(fn);
    return this.serialized(() => this.retryWhileBusy(() => this.runTransaction(fn)));
  }

  async ping(timeoutMs: number): Promise<void> {
    void timeoutMs; // a local file answers synchronously or throws
    this.assertOpen();
    this.connection.prepare('SELECT 1').get();
  }

  poolStats(): PoolStats {
    const inUse = this.mutex.locked ? 1 : 0;
    return { inUse, idle: 1 - inUse, max: 1 };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.mutex.run(async () => {
      if (this.closed) return;
      this.closed = true;
      this.statements.clear();
      this.connection.close();
    });
  }

  async tryAcquireMigrationLock(): Promise<MigrationLock | undefined> {
    this.assertOpen();
    if (this.path === IN_MEMORY) return this.tryAcquireInMemoryLock();
    // A separate small SQLite file: BEGIN EXCLUSIVE takes an OS file lock on it, which the OS
    // drops if this process dies, and which never blocks readers or writers of the main file.
    const lockFile = new BetterSqlite3(`${this.path}.migrate-lock`, { timeout: 0 });
    try {
      lockFile.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      lockFile.close();
      if (isBusyError(error)) return undefined;
      throw error;
    }
    return {
      release: async () => {
        if (!lockFile.open) return;
        lockFile.exec('ROLLBACK');
        lockFile.close();
      },
    };
  }

  private tryAcquireInMemoryLock(): MigrationLock | undefined {
    if (this.migrationLockHeldInMemory) return undefined;
    this.migrationLockHeldInMemory = true;
    return {
      release: async () => {
        this.migrationLockHeldInMemory = false;
      },
    };
  }

  private currentTransaction(): SqliteTransaction | undefined {
    const tx = this.activeTransaction.getStore();
    return tx && !tx.finished ? tx : undefined;
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    this.assertOpen();
    return this.mutex.run(fn);
  }

  private async runTransaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.connection.exec('BEGIN IMMEDIATE');
    const tx = new SqliteTransaction(this);
    try {
      const result = await this.activeTransaction.run(tx, () => fn(tx));
      this.connection.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.connection.inTransaction) this.connection.exec('ROLLBACK');
      throw error;
    } finally {
      tx.finished = true;
    }
  }

  /** Runs `fn` against the connection's current transaction, as a savepoint. */
  async runSavepoint<T>(tx: SqliteTransaction, name: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.connection.exec(`SAVEPOINT ${name}`);
    try {
      const result = await fn(tx);
      this.connection.exec(`RELEASE ${name}`);
      return result;
    } catch (error) {
      this.connection.exec(`ROLLBACK TO ${name}`);
      this.connection.exec(`RELEASE ${name}`);
      throw error;
    }
  }

  runQuery<T extends Row>(sql: string, params: readonly SqlValue[]): T[] {
    const statement = this.prepare(sql);
    const bound = params.map(toSqliteValue);
    if (statement.reader) return statement.all(...bound) as T[];
    statement.run(...bound);
    return [];
  }

  runExecute(sql: string, params: readonly SqlValue[]): number {
    return this.prepare(sql).run(...params.map(toSqliteValue)).changes;
  }

  private prepare(sql: string): Statement {
    this.assertOpen();
    const cached = this.statements.get(sql);
    if (cached) return cached;
    const statement = this.connection.prepare(sql);
    if (this.statements.size >= STATEMENT_CACHE_SIZE) {
      const oldest = this.statements.keys().next().value;
      if (oldest !== undefined) this.statements.delete(oldest);
    }
    this.statements.set(sql, statement);
    return statement;
  }

  private async retryWhileBusy<T>(attempt: () => T | Promise<T>): Promise<T> {
    const started = Date.now();
    let delayMs = 5;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (!isBusyError(error) || Date.now() - started + delayMs > this.busyRetryMs) throw error;
        await new Promise((resolve) => setTimeout(resolve, delayMs * (0.5 + Math.random())));
        delayMs = Math.min(delayMs * 2, 250);
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`The SQLite database ${this.redactedUrl} is closed`);
  }
}

/** The handle a transaction callback receives; it is dead once the transaction ends. */
class SqliteTransaction implements Queryable {
  readonly dialect = 'sqlite' as const;
  finished = false;
  private savepoints = 0;

  constructor(private readonly db: SqliteDatabase) {}

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    this.assertActive();
    return this.db.runQuery<T>(sql, params);
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    this.assertActive();
    return this.db.runExecute(sql, params);
  }

  async savepoint<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.assertActive();
    this.savepoints += 1;
    return this.db.runSavepoint(this, `tk_savepoint_${this.savepoints}`, fn);
  }

  private assertActive(): void {
    if (this.finished) throw new Error('This transaction has already ended; use the database handle instead');
  }
}

/**
 * Dates become ISO-8601 UTC text (which sorts and compares correctly), booleans 0/1, and
 * whole numbers are bound as INTEGER (better-sqlite3 binds every JS number as REAL, which
 * would store 5 in a TEXT column as '5.0').
 */
function toSqliteValue(value: SqlValue): string | number | bigint | null {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  return value;
}

function isBusyError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}
