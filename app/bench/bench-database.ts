import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/db/connect.js';
import { runMigrations } from '../src/db/migrator.js';
import type { Database, Dialect } from '../src/db/types.js';
import { adminUrl, databaseUrl } from '../test/support/databases.js';
import type { CleanupStack } from './cleanup.js';

export interface BenchDatabase {
  dialect: Dialect;
  db: Database;
  /** The database server's version (SQLite's library version for SQLite). */
  serverVersion: string;
  /** Closes `db` and removes the database; also registered with the cleanup stack. */
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database for one measurement, opened with the app's default pool (as the
 * server runs in production), and registered for removal however the run ends.
 */
export async function createBenchDatabase(dialect: Dialect, cleanup: CleanupStack): Promise<BenchDatabase> {
  const { db, drop } = dialect === 'sqlite' ? await createSqlite(cleanup) : await createServerDatabase(dialect, cleanup);
  await runMigrations(db);
  return { dialect, db, serverVersion: await serverVersion(db), drop };
}

async function createSqlite(cleanup: CleanupStack): Promise<{ db: Database; drop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'tk-bench-'));
  const removeDir = cleanup.add(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const db = await openDatabase(`sqlite://${join(dir, 'bench.db')}`);
  const close = cleanup.add('close the SQLite database', () => db.close());
  return {
    db,
    drop: async () => {
      await close();
      await removeDir();
    },
  };
}

async function createServerDatabase(
  dialect: 'postgres' | 'mysql',
  cleanup: CleanupStack,
): Promise<{ db: Database; drop: () => Promise<void> }> {
  const name = `tk_bench_${process.pid}_${randomBytes(6).toString('hex')}`;
  await withAdmin(dialect, (admin) =>
    admin.execute(dialect === 'postgres' ? `CREATE DATABASE "${name}"` : `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`),
  );
  const dropDatabase = cleanup.add(`drop database ${name}`, () =>
    withAdmin(dialect, (admin) =>
      admin.execute(dialect === 'postgres' ? `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)` : `DROP DATABASE IF EXISTS \`${name}\``),
    ).then(() => undefined),
  );
  const db = await openDatabase(databaseUrl(dialect, name));
  const close = cleanup.add(`close database ${name}`, () => db.close());
  return {
    db,
    drop: async () => {
      await close();
      await dropDatabase();
    },
  };
}

async function withAdmin<T>(dialect: 'postgres' | 'mysql', fn: (admin: Database) => Promise<T>): Promise<T> {
  const admin = await openDatabase(adminUrl(dialect), { maxConnections: 1, minIdle: 0 });
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

async function serverVersion(db: Database): Promise<string> {
  const sql = db.dialect === 'sqlite' ? 'SELECT sqlite_version() AS version' : 'SELECT version() AS version';
  const rows = await db.query<{ version: string }>(sql);
  return String(rows[0]?.version ?? 'unknown');
}

export async function countRows(db: Database, table: 'events' | 'event_rule_matches'): Promise<number> {
  const rows = await db.query<{ count: number | string }>(`SELECT COUNT(*) AS count FROM ${table}`);
  return Number(rows[0]?.count ?? 0);
}
