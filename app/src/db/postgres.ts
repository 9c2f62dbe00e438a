import pg from 'pg';
import type { MigrationLock, MigrationLockSupport } from './migration-lock.js';
import { rewritePlaceholders } from './sql-text.js';
import { withTimeout } from './with-timeout.js';
import type { Database, PoolOptions, PoolStats, Queryable, Row, ServerTls, SqlValue } from './types.js';

const { Pool, Client, types: builtinTypes } = pg;

/** Type OIDs we read differently from pg's defaults. */
const OID = { int8: 20, numeric: 1700, timestamp: 1114, timestamptz: 1184 } as const;

/** A fixed key for pg_advisory_lock; advisory locks are scoped to the current database. */
const MIGRATION_LOCK_KEY = '7310573105310001';

/**
 * Timestamps come back as ISO-8601 UTC strings with milliseconds (microseconds are cut), and
 * int8/numeric (COUNT, SUM) as JS numbers. Per pool, so no global pg state changes.
 */
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    switch (oid) {
      case OID.int8:
      case OID.numeric:
        return (value: string) => Number(value);
      case OID.timestamptz: {
        const parseDate = builtinTypes.getTypeParser(OID.timestamptz, 'text');
        return (value: string) => isoString(parseDate(value));
      }
      case OID.timestamp: {
        // A timestamp without time zone is taken to hold UTC, like every timestamp we write.
        const parseDate = builtinTypes.getTypeParser(OID.timestamptz, 'text');
        return (value: string) => isoString(parseDate(`${value}+00`));
      }
      default:
        return builtinTypes.getTypeParser(oid, format ?? 'text');
    }
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * The URL, and with a CA the TLS settings that verify the server against it: Node checks the
 * chain to `ca` and the certificate's name against the host (libpq's verify-full). pg lets the
 * URL's sslmode replace an `ssl` option, so the CA's verification drops sslmode from the URL
 * (the config accepts only verify-full, or none, with a CA).
 */
function connectionOf(url: string, tls: ServerTls): Pick<pg.ClientConfig, 'connectionString' | 'ssl'> {
  if (tls.ca === undefined) return { connectionString: url };
  const parsed = new URL(url);
  parsed.searchParams.delete('sslmode');
  return { connectionString: parsed.href, ssl: { ca: tls.ca, rejectUnauthorized: true } };
}

function isoString(value: unknown): unknown {
  // infinity / -infinity have no ISO form; pass them through as the strings pg gives.
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : value;
}

/**
 * PostgreSQL through a pg Pool. Pool options map onto pg-pool's: max, min (kept from idle
 * eviction; pg-pool opens connections on demand, it does not pre-fill), idleTimeoutMillis,
 * maxLifetimeSeconds (a connection is closed once it has lived that long and is idle) and
 * connectionTimeoutMillis.
 */
export class PostgresDatabase implements Database, MigrationLockSupport {
  readonly dialect = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly clientConfig: pg.ClientConfig;
  private closed = false;

  constructor(url: string, private readonly options: PoolOptions, readonly redactedUrl: string, tls: ServerTls = {}) {
    this.clientConfig = {
      ...connectionOf(url, tls),
      types: typeParsers,
      connectionTimeoutMillis: options.connectionTimeoutMs,
      application_name: 'trapperkeeper',
    };
    this.pool = new Pool({
      ...this.clientConfig,
      max: options.maxConnections,
      min: Math.min(options.minIdle, options.maxConnections),
      idleTimeoutMillis: options.idleTimeoutMs,
      maxLifetimeSeconds: Math.max(1, Math.round(options.maxLifetimeMs / 1000)),
    });
    // An idle client losing its connection (server restart) must not crash the process;
    // the pool drops it and the next query opens a fresh one.
    this.pool.on('error', () => {});
  }

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (await runOn(this.pool, sql, params)).rows as T[];
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return (await runOn(this.pool, sql, params)).rowCount ?? 0;
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const tx = new ClientQueryable(client);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError as Error; // the connection is unusable: do not hand it back
      }
      throw error;
    } finally {
      tx.finished = true;
      client.release(broken);
    }
  }

  async ping(timeoutMs: number): Promise<void> {
    await withTimeout(this.pool.query('SELECT 1'), timeoutMs, `PostgreSQL at ${this.redactedUrl} did not answer within ${timeoutMs} ms`);
  }

  poolStats(): PoolStats {
    return {
      inUse: this.pool.totalCount - this.pool.idleCount,
      idle: this.pool.idleCount,
      max: this.options.maxConnections,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  /** On a connection of its own (outside the pool), so the lock lives and dies with it. */
  async tryAcquireMigrationLock(): Promise<MigrationLock | undefined> {
    const client = new Client(this.clientConfig);
    client.on('error', () => {});
    await client.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK_KEY]);
      if (rows[0]?.locked !== true) {
        await client.end();
        return undefined;
      }
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    return {
      release: async () => {
        try {
          await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
        } finally {
          await client.end().catch(() => {});
        }
      },
    };
  }
}

/** The handle a transaction callback receives; dead once the client went back to the pool. */
class ClientQueryable implements Queryable {
  readonly dialect = 'postgres' as const;
  finished = false;

  constructor(private readonly client: pg.PoolClient) {}

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    this.assertActive();
    return (await runOn(this.client, sql, params)).rows as T[];
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    this.assertActive();
    return (await runOn(this.client, sql, params)).rowCount ?? 0;
  }

  private assertActive(): void {
    if (this.finished) throw new Error('This transaction has already ended; use the database handle instead');
  }
}

function runOn(target: pg.Pool | pg.PoolClient, sql: string, params: readonly SqlValue[]): Promise<pg.QueryResult> {
  const { sql: text, count } = rewritePlaceholders(sql, 'postgres', (index) => `$${index + 1}`);
  if (count !== params.length) {
    return Promise.reject(new Error(`The statement has ${count} placeholders but ${params.length} parameters were given`));
  }
  return target.query(text, params.map(toPostgresValue));
}

/** Booleans are stored as SMALLINT 0/1 (see the schema), so they are sent as numbers. */
function toPostgresValue(value: SqlValue): string | number | null | Date {
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}
