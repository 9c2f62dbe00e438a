import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isMigrationLockHeld } from '../../src/db/migration-lock.js';
import { migrationStatus, resolveFailedMigration, runMigrations, type MigrationStatus } from '../../src/db/migrator.js';
import type { Dialect } from '../../src/db/types.js';
import { UserError } from '../../src/errors.js';
import { createEmptyTestDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';
import { lastJsonLine, startFixture } from './children.js';

/** A statement that keeps the database busy for about `seconds` (SQLite: a big recursive CTE). */
function slowStatement(dialect: Dialect, seconds: number): string {
  switch (dialect) {
    case 'postgres':
      return `SELECT pg_sleep(${seconds});\n`;
    case 'mysql':
      return `SELECT SLEEP(${seconds});\n`;
    case 'sqlite':
      // About 6 million rows per second here; 2 cores shared, so only roughly `seconds`.
      return `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${Math.round(seconds * 6_000_000)}) SELECT MAX(x) FROM c;\n`;
  }
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface ChildResult {
  applied?: string[];
  waited?: boolean;
  error?: string;
}

for (const dialect of DIALECTS) {
  describe(`${dialect} migrator across processes`, () => {
    let dir: string;
    let target: TestDatabase;
    const opened: TestDatabase[] = [];
    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tk-migrations-'));
      target = await createEmptyTestDatabase(dialect);
      opened.push(target);
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    after(async () => {
      for (const test of opened) await test.drop();
    });

    test('two migrators started at the same moment apply each file exactly once', async () => {
      writeFileSync(
        join(dir, '001_slow.sql'),
        `CREATE TABLE runs (file VARCHAR(20) NOT NULL);\n${slowStatement(dialect, 1.5)}INSERT INTO runs (file) VALUES ('001');\n`,
      );
      writeFileSync(join(dir, '002_next.sql'), `INSERT INTO runs (file) VALUES ('002');\n`);
      const children = [startFixture('migrate-child', [target.url, dir]), startFixture('migrate-child', [target.url, dir])];
      await Promise.all(children.map((child) => child.ready));
      for (const child of children) child.send('go');
      const exits = await Promise.all(children.map((child) => child.exited));

      const results = exits.map((exit) => {
        assert.equal(exit.code, 0, `a migrator failed:\n${exit.stdout}\n${exit.stderr}`);
        return lastJsonLine<ChildResult>(exit.stdout);
      });
      const appliedEverywhere = results.flatMap((result) => result.applied ?? []).sort();
      assert.deepEqual(appliedEverywhere, ['001_slow', '002_next']);
      assert.ok(results.some((result) => result.waited), 'one migrator waited for the other (they really overlapped)');
      const runs = await target.db.query<{ file: string }>('SELECT file FROM runs ORDER BY file');
      assert.deepEqual(runs, [{ file: '001' }, { file: '002' }]);
      const statuses = await migrationStatus(target.db, { dir });
      assert.deepEqual(statuses.map((s) => [s.id, s.status]), [['001_slow', 'applied'], ['002_next', 'applied']]);
    });

    test('a migrator killed while holding the lock leaves it free and its migration failed until resolved', async () => {
      const slowFile = join(dir, '001_slow.sql');
      writeFileSync(slowFile, `${slowStatement(dialect, 30)}CREATE TABLE after_sleep (id INTEGER);\n`);
      const child = startFixture('migrate-child', [target.url, dir]);
      await child.ready;
      child.send('go');
      const running = await waitFor<MigrationStatus>('the child to start migrating', 15_000, async () => {
        const [status] = await migrationStatus(target.db, { dir });
        return status?.status === 'running' ? status : undefined;
      });
      assert.equal(running.id, '001_slow');
      assert.equal(await isMigrationLockHeld(target.db), true);

      child.process.kill('SIGKILL');
      const exit = await child.exited;
      assert.equal(exit.signal, 'SIGKILL');
      // The server notices the dead connection (or the OS drops the file lock) on its own.
      await waitFor('the lock to be released', 5_000, async () => ((await isMigrationLockHeld(target.db)) ? undefined : true));

      const [interrupted] = await migrationStatus(target.db, { dir });
      assert.equal(interrupted?.status, 'failed');
      assert.match(interrupted?.error ?? '', /interrupted/);

      const refusal = await runMigrations(target.db, { dir, lockTimeoutMs: 2_000 }).then(
        () => assert.fail('should refuse'),
        (e: unknown) => e,
      );
      assert.ok(refusal instanceof UserError);
      assert.match(refusal.message, /001_slow/);
      assert.match(refusal.fix ?? '', /trapperkeeper migrate --resolve 001_slow/);

      assert.equal((await resolveFailedMigration(target.db, '001_slow')).id, '001_slow');
      writeFileSync(slowFile, 'CREATE TABLE after_sleep (id INTEGER);\n');
      assert.deepEqual(await runMigrations(target.db, { dir, lockTimeoutMs: 2_000 }), { applied: ['001_slow'] });
    });
  });
}
