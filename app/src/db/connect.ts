import { isAbsolute, resolve } from 'node:path';
import { UserError } from '../errors.js';
import type { Database, PoolOptions, ServerTls } from './types.js';

export const DEFAULT_POOL_OPTIONS: PoolOptions = {
  maxConnections: 16,
  minIdle: 4,
  idleTimeoutMs: 300_000,
  maxLifetimeMs: 1_800_000,
  connectionTimeoutMs: 5_000,
};

const ACCEPTED = 'sqlite://<path>, sqlite:///<absolute path>, a plain file path, postgres://, postgresql://, mysql:// or mariadb://';

type Target =
  | { driver: 'sqlite'; path: string }
  | { driver: 'postgres'; url: string }
  | { driver: 'mysql'; url: string };

/**
 * Opens a database by URL. The driver is picked by scheme:
 * - `sqlite://data/tk.db` (relative to the working directory), `sqlite:///var/lib/tk.db`,
 *   `sqlite::memory:`, or a plain path with no scheme;
 * - `postgres://` or `postgresql://`;
 * - `mysql://` (also `mariadb://`).
 * Client-server drivers connect lazily: a wrong host shows up on first use or `ping`.
 */
export async function openDatabase(url: string, pool: Partial<PoolOptions> = {}, tls: ServerTls = {}): Promise<Database> {
  const target = parseDatabaseUrl(url);
  const options: PoolOptions = { ...DEFAULT_POOL_OPTIONS, ...definedOnly(pool) };
  const redactedUrl = redactDatabaseUrl(url);
  if (tls.ca !== undefined && target.driver !== 'postgres') {
    throw new UserError(`A database CA is set, but ${redactedUrl} is not a PostgreSQL URL`, 'Unset database.ca (TK_DATABASE_CA)');
  }
  // Drivers load on demand, so a SQLite install never loads pg or mysql2.
  switch (target.driver) {
    case 'sqlite': {
      const { SqliteDatabase } = await import('./sqlite.js');
      return SqliteDatabase.open(target.path, { redactedUrl });
    }
    case 'postgres': {
      const { PostgresDatabase } = await import('./postgres.js');
      return new PostgresDatabase(target.url, options, redactedUrl, tls);
    }
    case 'mysql': {
      const { MysqlDatabase } = await import('./mysql.js');
      return new MysqlDatabase(target.url, options, redactedUrl);
    }
  }
}

export function parseDatabaseUrl(url: string): Target {
  const trimmed = url.trim();
  if (trimmed === '') {
    throw new UserError('The database URL is empty', `Pass a database URL: ${ACCEPTED}`);
  }
  // Two or more letters, so a Windows drive letter (C:\data\tk.db) reads as a plain path.
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === undefined) return { driver: 'sqlite', path: resolve(trimmed) };
  switch (scheme) {
    case 'sqlite':
    case 'sqlite3':
      return { driver: 'sqlite', path: sqlitePath(trimmed, scheme) };
    case 'postgres':
    case 'postgresql':
      return { driver: 'postgres', url: trimmed };
    case 'mysql':
    case 'mariadb':
      return { driver: 'mysql', url: trimmed };
    default:
      throw new UserError(
        `Unsupported database URL scheme "${scheme}:" in ${redactDatabaseUrl(trimmed)}`,
        `Use one of: ${ACCEPTED}`,
      );
  }
}

function sqlitePath(url: string, scheme: string): string {
  let rest = url.slice(scheme.length + 1);
  if (rest.startsWith('//')) rest = rest.slice(2);
  if (rest === '') {
    throw new UserError(`The SQLite URL ${url} names no file`, 'Use sqlite://<relative path> or sqlite:///<absolute path>');
  }
  if (rest === ':memory:') return rest;
  return isAbsolute(rest) ? rest : resolve(rest);
}

/**
 * The URL with its password (in the user-info part, or a `password=` query parameter)
 * replaced by `***`, safe to print and log.
 */
/** What stands for a password in a redacted URL. */
export const REDACTED_PASSWORD = '***';

export function redactDatabaseUrl(url: string): string {
  const schemeEnd = url.indexOf('://');
  if (schemeEnd < 0) return url;
  const authorityStart = schemeEnd + 3;
  const queryStart = url.slice(authorityStart).search(/[?#]/);
  const beforeQuery = queryStart < 0 ? url.slice(authorityStart) : url.slice(authorityStart, authorityStart + queryStart);
  let redacted = url;
  // The last '@' before the query separates user info from the host, even when the password
  // holds an unencoded '@'.
  const at = beforeQuery.lastIndexOf('@');
  if (at >= 0) {
    const userInfo = beforeQuery.slice(0, at);
    const colon = userInfo.indexOf(':');
    if (colon >= 0) {
      redacted = url.slice(0, authorityStart + colon + 1) + REDACTED_PASSWORD + url.slice(authorityStart + at);
    }
  }
  return redacted.replace(/([?&](?:password|pass|pwd)=)[^&#]*/gi, `$1${REDACTED_PASSWORD}`);
}

function definedOnly(options: Partial<PoolOptions>): Partial<PoolOptions> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}
