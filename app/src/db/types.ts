/**
 * The one database contract the rest of the app codes against. Each dialect's
 * adapter (sqlite.ts, postgres.ts, mysql.ts) implements it.
 *
 * Conventions every adapter enforces, so table modules stay dialect-free:
 * - SQL uses `?` placeholders on every dialect (PostgreSQL's adapter rewrites them).
 * - Timestamps are written as `Date` parameters and read back as ISO-8601 UTC strings
 *   with milliseconds (`2026-01-02T03:04:05.678Z`), whatever the column type.
 * - Integers (COUNT(*), SMALLINT booleans) come back as JS numbers.
 * - Column names are lowercase snake_case.
 */
export type Dialect = 'sqlite' | 'postgres' | 'mysql';

export type SqlValue = string | number | boolean | null | Date;

export type Row = Record<string, unknown>;

export interface Queryable {
  readonly dialect: Dialect;
  /** Rows returned by a statement (SELECT, or INSERT ... RETURNING where supported). */
  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a statement and returns the number of rows it changed. */
  execute(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface PoolStats {
  inUse: number;
  idle: number;
  max: number;
}

export interface Database extends Queryable {
  /** Runs `fn` in one transaction on one connection; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query within `timeoutMs`, rejects otherwise. */
  ping(timeoutMs: number): Promise<void>;
  poolStats(): PoolStats;
  close(): Promise<void>;
  /** The connection URL with any password replaced by `***`, safe to print. */
  readonly redactedUrl: string;
  /** The database's file, when it is a local SQLite file that other connections (threads, processes) may open too. */
  readonly file?: string;
}

/** How a client-server driver verifies the server. */
export interface ServerTls {
  /**
   * PEM certificates of the CAs the server's certificate must chain to, its name checked against
   * the URL's host (libpq's verify-full), instead of the CAs Node ships. PostgreSQL only.
   */
  ca?: string;
}

export interface PoolOptions {
  /** @default 16 */
  maxConnections: number;
  /** @default 4 */
  minIdle: number;
  /** @default 300_000 (5 min) */
  idleTimeoutMs: number;
  /** @default 1_800_000 (30 min) */
  maxLifetimeMs: number;
  /** @default 5_000 */
  connectionTimeoutMs: number;
}

/** The tenant every install starts with (created by migration 001). */
export const DEFAULT_TENANT_ID = '00000000-0000-7000-8000-000000000001';
