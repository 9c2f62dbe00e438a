import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/connect.js';
import { runMigrations } from '../../src/db/migrator.js';
import type { Database, Dialect, PoolOptions } from '../../src/db/types.js';

/**
 * The dialects database tests run on. Set TK_TEST_DIALECTS (comma-separated) to narrow it,
 * e.g. TK_TEST_DIALECTS=sqlite on a machine without PostgreSQL and MariaDB.
 */
export const DIALECTS: readonly Dialect[] = selectedDialects();

function selectedDialects(): Dialect[] {
  const all: Dialect[] = ['sqlite', 'postgres', 'mysql'];
  const wanted = process.env.TK_TEST_DIALECTS?.split(',').map((name) => name.trim()).filter(Boolean);
  if (!wanted || wanted.length === 0) return all;
  return all.filter((dialect) => wanted.includes(dialect));
}

/** Small pools: test processes run side by side with other engineers' suites. */
export const TEST_POOL: Partial<PoolOptions> = { maxConnections: 4, minIdle: 0, connectionTimeoutMs: 5_000 };

/**
 * Where the test servers are (always on this machine). Override with TK_TEST_POSTGRES_URL /
 * TK_TEST_MYSQL_URL; the URL's database part is replaced by each test database's name.
 */
export function adminUrl(dialect: 'postgres' | 'mysql'): string {
  return dialect === 'postgres'
    ? (process.env.TK_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres')
    : (process.env.TK_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/mysql');
}

export interface TestDatabase {
  dialect: Dialect;
  db: Database;
  /** The URL that opens this database again (e.g. from a child process). */
  url: string;
  /** Closes `db` and removes the database (its file, for SQLite). */
  drop(): Promise<void>;
}

/** A fresh, uniquely named database with every migration applied. */
export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  const test = await createEmptyTestDatabase(dialect);
  try {
    await runMigrations(test.db);
  } catch (error) {
    await test.drop();
    throw error;
  }
  return test;
}

/** A fresh, uniquely named database with nothing in it (not even the migrations table). */
export async function createEmptyTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  if (dialect === 'sqlite') return createSqliteDatabase();
  const name = `tk_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  await withAdmin(dialect, (admin) =>
    admin.execute(dialect === 'postgres' ? `CREATE DATABASE "${name}"` : `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`),
  );
  const url = databaseUrl(dialect, name);
  const db = await openDatabase(url, TEST_POOL);
  let dropped = false;
  return {
    dialect,
    db,
    url,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await db.close();
      await withAdmin(dialect, (admin) =>
        // FORCE: a child process killed mid-statement may leave a backend still finishing.
        admin.execute(dialect === 'postgres' ? `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)` : `DROP DATABASE IF EXISTS \`${name}\``),
      );
    },
  };
}

async function createSqliteDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'tk-test-db-'));
  const url = `sqlite://${join(dir, 'trapperkeeper.db')}`;
  const db = await openDatabase(url);
  let dropped = false;
  return {
    dialect: 'sqlite',
    db,
    url,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The admin URL with its database part replaced by `name`. */
export function databaseUrl(dialect: 'postgres' | 'mysql', name: string): string {
  const url = new URL(adminUrl(dialect));
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(dialect: 'postgres' | 'mysql', fn: (admin: Database) => Promise<T>): Promise<T> {
  const admin = await openDatabase(adminUrl(dialect), { maxConnections: 1, minIdle: 0 });
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}
