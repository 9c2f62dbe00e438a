import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { migrationChecksum, migrationsDir } from '../../src/db/migration-files.js';
import {
  assertSchemaCurrent,
  currentSchemaVersion,
  migrationStatus,
  resolveFailedMigration,
  runMigrations,
} from '../../src/db/migrator.js';
import { UserError } from '../../src/errors.js';
import { createLogger } from '../../src/log/logger.js';
import { createEmptyTestDatabase, createTestDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';

const TABLE_A = 'CREATE TABLE mig_a (id INTEGER PRIMARY KEY, label VARCHAR(50) NOT NULL);\n';
const TABLE_B = 'CREATE TABLE mig_b (id INTEGER PRIMARY KEY);\n';

async function rejectsWithUserError(promise: Promise<unknown>): Promise<UserError> {
  const error = await promise.then(
    () => assert.fail('expected a UserError'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
  return error;
}

async function tableExists(test: TestDatabase, table: string): Promise<boolean> {
  try {
    await test.db.query(`SELECT COUNT(*) AS n FROM ${table}`);
    return true;
  } catch {
    return false;
  }
}

describe('migrations folder', () => {
  test('is found in the repository by default, and a folder of dialect folders or of .sql files can replace it', () => {
    const root = mkdtempSync(join(tmpdir(), 'tk-migrations-root-'));
    const saved = process.env.TK_MIGRATIONS_DIR;
    try {
      assert.match(migrationsDir('postgres'), /migrations[\\/]postgres$/);
      mkdirSync(join(root, 'mysql'));
      assert.equal(migrationsDir('mysql', root), join(root, 'mysql'));
      assert.equal(migrationsDir('sqlite', root), root, 'a folder without dialect folders holds the files itself');
      process.env.TK_MIGRATIONS_DIR = root;
      assert.equal(migrationsDir('mysql'), join(root, 'mysql'));
    } finally {
      if (saved === undefined) delete process.env.TK_MIGRATIONS_DIR;
      else process.env.TK_MIGRATIONS_DIR = saved;
      rmSync(root, { recursive: true, force: true });
    }
  });
});

for (const dialect of DIALECTS) {
  describe(`${dialect} migrator`, () => {
    let dir: string;
    let empty: TestDatabase;
    const opened: TestDatabase[] = [];
    before(async () => {
      empty = await createEmptyTestDatabase(dialect);
      opened.push(empty);
    });
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'tk-migrations-'));
    });
    // One empty database per dialect, emptied again after each test: creating a PostgreSQL
    // database per test would cost a third of a second each.
    afterEach(async () => {
      rmSync(dir, { recursive: true, force: true });
      for (const table of ['migrations', 'mig_a', 'mig_b', 'mig_c']) await empty.db.execute(`DROP TABLE IF EXISTS ${table}`);
    });
    after(async () => {
      for (const test of opened) await test.drop();
    });
    const write = (name: string, sql: string) => writeFileSync(join(dir, name), sql);

    test("applies the repository's migrations to a fresh database, records them, and a second run applies nothing", async () => {
      const migrated = await createTestDatabase(dialect);
      opened.push(migrated);
      const files = readdirSync(migrationsDir(dialect)).filter((f) => f.endsWith('.sql')).sort();
      const statuses = await migrationStatus(migrated.db);
      assert.deepEqual(statuses.map((s) => [s.id, s.status]), files.map((f) => [f.replace(/\.sql$/, ''), 'applied']));
      for (const status of statuses) {
        assert.match(status.checksum, /^[0-9a-f]{64}$/);
        assert.match(status.appliedAt ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        assert.equal(typeof status.executionMs, 'number');
      }
      assert.equal(await currentSchemaVersion(migrated.db), files.at(-1)?.replace(/\.sql$/, ''));
      assert.deepEqual(await runMigrations(migrated.db), { applied: [] });
      await assertSchemaCurrent(migrated.db);
    });

    test('a database never migrated has no schema version', async () => {
      assert.equal(await currentSchemaVersion(empty.db), null);
    });

    test('applies only the new file when a second migration is added, and logs each with its time', async () => {
      const lines: string[] = [];
      const logger = createLogger(
        { level: 'info', pretty: false },
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            lines.push(chunk.toString());
            done();
          },
        }),
      );
      write('001_a.sql', TABLE_A);
      assert.deepEqual(await runMigrations(empty.db, { dir, logger }), { applied: ['001_a'] });
      write('002_b.sql', TABLE_B);
      assert.deepEqual(await runMigrations(empty.db, { dir, logger }), { applied: ['002_b'] });
      assert.deepEqual(
        (await migrationStatus(empty.db, { dir })).map((s) => [s.id, s.status]),
        [['001_a', 'applied'], ['002_b', 'applied']],
      );
      assert.equal(await currentSchemaVersion(empty.db), '002_b');
      const applied = lines.map((line) => JSON.parse(line) as { migration?: string; executionMs?: number }).filter((l) => l.migration);
      assert.deepEqual(applied.map((l) => l.migration), ['001_a', '002_b']);
      assert.ok(applied.every((l) => typeof l.executionMs === 'number'));
    });

    test('refuses to run when an applied file changed, naming the file and both checksums, and applies nothing', async () => {
      write('001_a.sql', TABLE_A);
      await runMigrations(empty.db, { dir });
      const edited = TABLE_A.replace('VARCHAR(50)', 'VARCHAR(60)');
      write('001_a.sql', edited);
      write('002_b.sql', TABLE_B);
      const error = await rejectsWithUserError(runMigrations(empty.db, { dir }));
      assert.match(error.message, /001_a\.sql/);
      assert.ok(error.message.includes(migrationChecksum(TABLE_A)), 'names the recorded checksum');
      assert.ok(error.message.includes(migrationChecksum(edited)), "names the file's checksum");
      assert.equal(await tableExists(empty, 'mig_b'), false);
      const statuses = await migrationStatus(empty.db, { dir });
      assert.deepEqual(statuses.map((s) => [s.id, s.status]), [['001_a', 'checksum-mismatch'], ['002_b', 'pending']]);
      assert.equal(statuses[0]?.recordedChecksum, migrationChecksum(TABLE_A));
      await rejectsWithUserError(assertSchemaCurrent(empty.db, { dir }));
    });

    test('a file checked out with CRLF line endings keeps its checksum', async () => {
      write('001_a.sql', `-- a comment\n${TABLE_A}`);
      await runMigrations(empty.db, { dir });
      write('001_a.sql', `-- a comment\r\n${TABLE_A.replace(/\n/g, '\r\n')}`);
      assert.deepEqual(await runMigrations(empty.db, { dir }), { applied: [] });
      assert.equal((await migrationStatus(empty.db, { dir }))[0]?.status, 'applied');
    });

    test('a failing migration is recorded as failed and blocks every later run until it is resolved', async () => {
      write('001_a.sql', TABLE_A);
      write('002_b.sql', `${TABLE_B}INSERT INTO no_such_table (id) VALUES (1);\n`);
      write('003_c.sql', 'CREATE TABLE mig_c (id INTEGER PRIMARY KEY);\n');
      const failure = await rejectsWithUserError(runMigrations(empty.db, { dir }));
      assert.match(failure.message, /Migration 002_b failed: statement 2 of 2 failed: .*no_such_table/);
      assert.match(failure.fix ?? '', /trapperkeeper migrate --resolve 002_b/);

      const statuses = await migrationStatus(empty.db, { dir });
      assert.deepEqual(statuses.map((s) => [s.id, s.status]), [['001_a', 'applied'], ['002_b', 'failed'], ['003_c', 'pending']]);
      assert.match(statuses[1]?.error ?? '', /no_such_table/);
      // PostgreSQL and SQLite roll the whole file back; MySQL keeps the DDL that ran, which is
      // why the failed state needs an operator.
      assert.equal(await tableExists(empty, 'mig_b'), dialect === 'mysql');

      const blocked = await rejectsWithUserError(runMigrations(empty.db, { dir }));
      assert.match(blocked.message, /002_b/);
      assert.match(blocked.fix ?? '', /trapperkeeper migrate --resolve 002_b/);
      assert.equal(await tableExists(empty, 'mig_c'), false);
      const stale = await rejectsWithUserError(assertSchemaCurrent(empty.db, { dir }));
      assert.match(stale.message, /002_b is failed/);

      assert.deepEqual(await resolveFailedMigration(empty.db, '002_b'), { id: '002_b', previousStatus: 'failed' });
      assert.equal((await migrationStatus(empty.db, { dir }))[1]?.status, 'pending');
      write('002_b.sql', 'CREATE TABLE IF NOT EXISTS mig_b (id INTEGER PRIMARY KEY);\nINSERT INTO mig_b (id) VALUES (1);\n');
      assert.deepEqual(await runMigrations(empty.db, { dir }), { applied: ['002_b', '003_c'] });
      assert.deepEqual(await empty.db.query('SELECT id FROM mig_b'), [{ id: 1 }]);
    });

    test('resolving a migration that is applied or unknown is refused', async () => {
      write('001_a.sql', TABLE_A);
      await runMigrations(empty.db, { dir });
      assert.match((await rejectsWithUserError(resolveFailedMigration(empty.db, '001_a'))).message, /001_a is applied/);
      assert.match((await rejectsWithUserError(resolveFailedMigration(empty.db, '009_x'))).message, /No migration named 009_x/);
    });

    test('status lists pending files, applied ones, and recorded migrations whose file is gone', async () => {
      write('001_a.sql', TABLE_A);
      write('002_b.sql', TABLE_B);
      assert.deepEqual((await migrationStatus(empty.db, { dir })).map((s) => [s.id, s.status]), [['001_a', 'pending'], ['002_b', 'pending']]);
      await runMigrations(empty.db, { dir });
      rmSync(join(dir, '001_a.sql'));
      write('003_c.sql', 'CREATE TABLE mig_c (id INTEGER PRIMARY KEY);\n');
      const statuses = await migrationStatus(empty.db, { dir });
      assert.deepEqual(statuses.map((s) => [s.id, s.status]), [['001_a', 'applied'], ['002_b', 'applied'], ['003_c', 'pending']]);
      assert.equal(statuses[0]?.checksum, migrationChecksum(TABLE_A));
    });

    test('refuses a file added with a name that sorts before an applied one, naming it and what to do, and applies nothing', async () => {
      write('001_a.sql', TABLE_A);
      write('003_c.sql', 'CREATE TABLE mig_c (id INTEGER PRIMARY KEY);\n');
      assert.deepEqual(await runMigrations(empty.db, { dir }), { applied: ['001_a', '003_c'] });
      write('002_b.sql', TABLE_B);
      write('004_d.sql', 'CREATE TABLE mig_d (id INTEGER PRIMARY KEY);\n');
      const error = await rejectsWithUserError(runMigrations(empty.db, { dir }));
      assert.match(error.message, /^Migration file 002_b\.sql sorts before 003_c\.sql, which is already applied; .*out of order; no migration was applied$/);
      assert.match(error.fix ?? '', /^Rename it so it sorts after 003_c \(for example 004_b\.sql\)/);
      assert.equal(await tableExists(empty, 'mig_b'), false);
      assert.equal(await tableExists(empty, 'mig_d'), false, 'the later, well-named file waits too');
      assert.equal(await currentSchemaVersion(empty.db), '003_c');

      // Renamed after the last applied one, it applies, in order.
      rmSync(join(dir, '002_b.sql'));
      write('005_b.sql', TABLE_B);
      assert.deepEqual(await runMigrations(empty.db, { dir }), { applied: ['004_d', '005_b'] });
      await empty.db.execute('DROP TABLE IF EXISTS mig_d');
    });

    test('refuses a stale schema with the migrate command and the password masked', async () => {
      write('001_a.sql', TABLE_A);
      const url = dialect === 'sqlite' ? empty.url : empty.url.replace(/:\/\/(\w+)@/, '://$1:hunter2@');
      const error = await rejectsWithUserError(assertSchemaCurrent(empty.db, { dir, url }));
      assert.match(error.message, /^Database schema out of date: 001_a is pending/);
      assert.ok(!error.fix?.includes('hunter2'));
      if (dialect === 'sqlite') {
        assert.equal(error.fix, `trapperkeeper migrate --db-url ${url}`);
      } else {
        // A URL with a password is not suggested on a command line (--db-url refuses it).
        const masked = url.replace('hunter2', '***');
        assert.equal(error.fix, `trapperkeeper migrate with TK_DATABASE_URL=${masked} (the password in the URL or in TK_DATABASE_PASSWORD, never on the command line)`);
      }
      await runMigrations(empty.db, { dir });
      await assertSchemaCurrent(empty.db, { dir, url });
    });
  });
}
