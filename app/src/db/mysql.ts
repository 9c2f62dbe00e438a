import { createHash } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { MigrationLock, MigrationLockSupport } from './migration-lock.js';
import { rewritePlaceholders } from './sql-text.js';
import type { Database, PoolOptions, PoolStats, Queryable, Row, SqlValue } from './types.js';
import { withTimeout } from './with-timeout.js';

type TypeCastField = Parameters<Extract<NonNullable<mysql.PoolOptions['typeCast']>, (...args: never[]) => unknown>>[0];

/** The pieces of mysql2's core pool that poolStats reads (not in its typings). */
interface CorePoolInternals {
  _allConnections?: { length: number };
  _freeConnections?: { length: number };
}

/**
 * MySQL / MariaDB through a mysql2 pool.
 * - Every connection's session time zone is UTC; DATETIME values are read as text and turned
 *   into ISO-8601 UTC with milliseconds here, and Date parameters are written as UTC text.
 * - `?` placeholders are filled in client-side (our lexer skips literals and comments; values
 *   go through mysql2's escaping), which also avoids server-side prepared statement caches.
 * - Pool options: max -> connectionLimit; connectionTimeoutMs -> connectTimeout; minIdle ->
 *   maxIdle and idleTimeoutMs -> idleTimeout, which is an approximation: mysql2 keeps at most
 *   maxIdle idle connections (extra ones close within about a second) and also closes idle ones
 *   older than idleTimeout, so minIdle caps what is kept rather than guaranteeing a floor.
 *   mysql2 has no maximum lifetime, so we apply it ourselves: a connection older than
 *   maxLifetimeMs is closed instead of going back to the pool (an idle one past its lifetime is
 *   closed when next used, or earlier by idle eviction).
 */
export class MysqlDatabase implements Database, MigrationLockSupport {
  readonly dialect = 'mysql' as const;
  private readonly pool: mysql.Pool;
  private readonly connectionOptions: mysql.ConnectionOptions;
  private readonly createdAt = new WeakMap<object, number>();
  private closed = false;

  constructor(url: string, private readonly options: PoolOptions, readonly redactedUrl: string) {
    this.connectionOptions = {
      uri: url,
      timezone: 'Z',
      dateStrings: true,
      decimalNumbers: true,
      connectTimeout: options.connectionTimeoutMs,
      typeCast: castDateTimes,
    };
    this.pool = mysql.createPool({
      ...this.connectionOptions,
      connectionLimit: options.maxConnections,
      maxIdle: Math.min(options.minIdle, options.maxConnections),
      idleTimeout: options.idleTimeoutMs,
      waitForConnections: true,
    });
    this.pool.on('connection', (connection) => {
      this.createdAt.set(connection, Date.now());
      // Core (callback) connection: queued before any query the pool runs on it.
      (connection as unknown as { query(sql: string): unknown }).query("SET time_zone = '+00:00'");
    });
  }

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.withConnection(async (connection) => rowsOf<T>(await runOn(connection, sql, params)));
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.withConnection(async (connection) => affectedRowsOf(await runOn(connection, sql, params)));
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.withConnection(async (connection, discard) => {
      const tx = new ConnectionQueryable(connection);
      await connection.query('START TRANSACTION');
      try {
        const result = await fn(tx);
        await connection.query('COMMIT');
        return result;
      } catch (error) {
        // A connection whose ROLLBACK failed is in an unknown state: never reuse it.
        await connection.query('ROLLBACK').catch(discard);
        throw error;
      } finally {
        tx.finished = true;
      }
    });
  }

  async ping(timeoutMs: number): Promise<void> {
    await withTimeout(this.query('SELECT 1'), timeoutMs, `MySQL at ${this.redactedUrl} did not answer within ${timeoutMs} ms`);
  }

  poolStats(): PoolStats {
    const core = (this.pool as unknown as { pool: CorePoolInternals }).pool;
    const total = core._allConnections?.length ?? 0;
    const idle = core._freeConnections?.length ?? 0;
    return { inUse: total - idle, idle, max: this.options.maxConnections };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  /** GET_LOCK on a connection of its own; the server releases it when that connection dies. */
  async tryAcquireMigrationLock(): Promise<MigrationLock | undefined> {
    const connection = await mysql.createConnection(this.connectionOptions);
    connection.on('error', () => {});
    let name: string;
    try {
      const [databaseRows] = await connection.query('SELECT DATABASE() AS db');
      name = migrationLockName(String((databaseRows as { db: string | null }[])[0]?.db ?? ''));
      const [rows] = await connection.query('SELECT GET_LOCK(?, 0) AS locked', [name]);
      if (Number((rows as { locked: number | null }[])[0]?.locked) !== 1) {
        await connection.end();
        return undefined;
      }
    } catch (error) {
      connection.destroy();
      throw error;
    }
    return {
      release: async () => {
        try {
          await connection.query('SELECT RELEASE_LOCK(?)', [name]);
        } finally {
          await connection.end().catch(() => connection.destroy());
        }
      },
    };
  }

  private async withConnection<T>(
    fn: (connection: mysql.PoolConnection, discard: () => void) => Promise<T>,
  ): Promise<T> {
    const connection = await this.pool.getConnection();
    let healthy = true;
    try {
      return await fn(connection, () => {
        healthy = false;
      });
    } catch (error) {
      // A lost connection (or a failed ROLLBACK) must not go back to the pool.
      if (isConnectionError(error)) healthy = false;
      throw error;
    } finally {
      const born = this.createdAt.get(connection.connection) ?? Date.now();
      if (!healthy || Date.now() - born > this.options.maxLifetimeMs) connection.destroy();
      else connection.release();
    }
  }
}

/** The handle a transaction callback receives; dead once the connection went back to the pool. */
class ConnectionQueryable implements Queryable {
  readonly dialect = 'mysql' as const;
  finished = false;

  constructor(private readonly connection: mysql.PoolConnection) {}

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    this.assertActive();
    return rowsOf<T>(await runOn(this.connection, sql, params));
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    this.assertActive();
    return affectedRowsOf(await runOn(this.connection, sql, params));
  }

  private assertActive(): void {
    if (this.finished) throw new Error('This transaction has already ended; use the database handle instead');
  }
}

type QueryResult = Awaited<ReturnType<mysql.PoolConnection['query']>>[0];

async function runOn(connection: mysql.PoolConnection, sql: string, params: readonly SqlValue[]): Promise<QueryResult> {
  const { sql: text, count } = rewritePlaceholders(sql, 'mysql', (index) => mysql.escape(toMysqlValue(params[index] ?? null)));
  if (count !== params.length) {
    throw new Error(`The statement has ${count} placeholders but ${params.length} parameters were given`);
  }
  const [result] = await connection.query(text);
  return result;
}

function rowsOf<T>(result: QueryResult): T[] {
  return Array.isArray(result) ? (result as T[]) : [];
}

function affectedRowsOf(result: QueryResult): number {
  return Array.isArray(result) ? result.length : (result as mysql.ResultSetHeader).affectedRows;
}

/** Dates as UTC DATETIME(3) text, booleans as 0/1 (the schema's SMALLINT booleans). */
function toMysqlValue(value: SqlValue): string | number | null {
  if (value instanceof Date) return value.toISOString().replace('T', ' ').replace('Z', '');
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

function castDateTimes(field: TypeCastField, next: () => unknown): unknown {
  if (field.type === 'DATETIME' || field.type === 'DATETIME2' || field.type === 'TIMESTAMP' || field.type === 'TIMESTAMP2') {
    const text = field.string();
    return text === null ? null : dateTimeToIso(text);
  }
  return next();
}

/** '2026-01-02 03:04:05.678' (UTC) -> '2026-01-02T03:04:05.678Z'; fractions padded or cut to ms. */
export function dateTimeToIso(text: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?$/.exec(text);
  if (!match) return text;
  const millis = (match[3] ?? '').padEnd(3, '0').slice(0, 3);
  return `${match[1]}T${match[2]}.${millis}Z`;
}

/** GET_LOCK names are server-wide and at most 64 characters: derive one per database. */
function migrationLockName(database: string): string {
  return `trapperkeeper_migrate_${createHash('sha256').update(database).digest('hex').slice(0, 32)}`;
}

function isConnectionError(error: unknown): boolean {
  const e = error as { fatal?: boolean; code?: string } | null;
  return e?.fatal === true || e?.code === 'PROTOCOL_CONNECTION_LOST';
}
