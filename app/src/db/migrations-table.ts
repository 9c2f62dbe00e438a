import type { Dialect, Queryable } from './types.js';

/** The migrator's own bookkeeping table, one row per migration it has started. */
export type RecordedStatus = 'applied' | 'failed' | 'running';

export type MigrationRow = {
  id: string;
  checksum: string;
  status: RecordedStatus;
  started_at: string;
  applied_at: string | null;
  execution_ms: number | null;
  error: string | null;
};

const CREATE_TABLE: Record<Dialect, string> = {
  sqlite: `CREATE TABLE IF NOT EXISTS migrations (
    id           TEXT        PRIMARY KEY,
    checksum     CHAR(64)    NOT NULL,
    status       VARCHAR(16) NOT NULL,
    started_at   TEXT        NOT NULL,
    applied_at   TEXT        NULL,
    execution_ms INTEGER     NULL,
    error        TEXT        NULL
  )`,
  postgres: `CREATE TABLE IF NOT EXISTS migrations (
    id           VARCHAR(255) PRIMARY KEY,
    checksum     CHAR(64)     NOT NULL,
    status       VARCHAR(16)  NOT NULL,
    started_at   TIMESTAMPTZ  NOT NULL,
    applied_at   TIMESTAMPTZ  NULL,
    execution_ms INTEGER      NULL,
    error        TEXT         NULL
  )`,
  mysql: `CREATE TABLE IF NOT EXISTS migrations (
    id           VARCHAR(255) NOT NULL PRIMARY KEY,
    checksum     CHAR(64)     NOT NULL,
    status       VARCHAR(16)  NOT NULL,
    started_at   DATETIME(3)  NOT NULL,
    applied_at   DATETIME(3)  NULL,
    execution_ms INTEGER      NULL,
    error        TEXT         NULL
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
};

const TABLE_EXISTS: Record<Dialect, string> = {
  sqlite: `SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'migrations'`,
  postgres: `SELECT COUNT(*) AS n FROM (SELECT to_regclass('migrations') AS t) AS found WHERE t IS NOT NULL`,
  mysql: `SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'migrations'`,
};

/** Creates the table; call only while holding the migration lock (concurrent CREATEs race on PostgreSQL). */
export async function ensureMigrationsTable(db: Queryable): Promise<void> {
  await db.execute(CREATE_TABLE[db.dialect]);
}

export async function migrationsTableExists(db: Queryable): Promise<boolean> {
  const [row] = await db.query<{ n: number }>(TABLE_EXISTS[db.dialect]);
  return Number(row?.n ?? 0) > 0;
}

/** Every recorded row, by id; empty when the table does not exist yet. */
export async function readMigrationRows(db: Queryable): Promise<MigrationRow[]> {
  if (!(await migrationsTableExists(db))) return [];
  const rows = await db.query<MigrationRow>(
    'SELECT id, checksum, status, started_at, applied_at, execution_ms, error FROM migrations',
  );
  return rows
    .map((row) => ({ ...row, execution_ms: row.execution_ms === null ? null : Number(row.execution_ms) }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export async function recordRunning(db: Queryable, id: string, checksum: string): Promise<void> {
  await db.execute(
    `INSERT INTO migrations (id, checksum, status, started_at, applied_at, execution_ms, error)
     VALUES (?, ?, 'running', ?, NULL, NULL, NULL)`,
    [id, checksum, new Date()],
  );
}

export async function recordApplied(db: Queryable, id: string, executionMs: number): Promise<void> {
  await db.execute(
    `UPDATE migrations SET status = 'applied', applied_at = ?, execution_ms = ?, error = NULL WHERE id = ?`,
    [new Date(), Math.round(executionMs), id],
  );
}

export async function recordFailed(db: Queryable, id: string, error: string, executionMs: number | null): Promise<void> {
  await db.execute(`UPDATE migrations SET status = 'failed', execution_ms = ?, error = ? WHERE id = ?`, [
    executionMs === null ? null : Math.round(executionMs),
    error,
    id,
  ]);
}

export async function deleteMigrationRow(db: Queryable, id: string): Promise<void> {
  await db.execute('DELETE FROM migrations WHERE id = ?', [id]);
}

/** The id of the last applied migration in file-name order (JS order, not the database collation's). */
export async function lastAppliedMigration(db: Queryable): Promise<string | null> {
  if (!(await migrationsTableExists(db))) return null;
  const rows = await db.query<{ id: string }>(`SELECT id FROM migrations WHERE status = 'applied'`);
  return rows.map((row) => row.id).sort().at(-1) ?? null;
}
