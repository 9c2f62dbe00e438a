import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { DeployError } from '../../../components/errors.js';
import {
  applyRetention,
  latestSnapshot,
  listSnapshots,
  readSnapshotFolder,
  restoreSnapshot,
  takeSnapshot,
  verifySnapshot,
  type SnapshotSpec,
} from '../../../providers/docker/snapshot/index.js';
import { SNAPSHOTS_DIR } from '../../../providers/docker/infrastructure-spec.js';
import { TEST_IMAGES, requireDocker, testEngine, uniqueName } from '../../support/images.js';
import { startPostgres, type PostgresFixture } from './postgres-fixture.js';

/** Where a stack's PostgreSQL has its snapshot volume. */
const SNAPSHOTS = SNAPSHOTS_DIR;
const DAY = 86_400_000;

let pg: PostgresFixture;
let spec: SnapshotSpec;

const SCHEMA = `
CREATE TABLE parent (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE child (id bigserial PRIMARY KEY, parent_id bigint NOT NULL REFERENCES parent (id), amount int NOT NULL);
CREATE TABLE account (id int PRIMARY KEY, balance bigint NOT NULL);
INSERT INTO account VALUES (1, 1000000), (2, 0);
CREATE TABLE progress (transactions bigint NOT NULL);
INSERT INTO progress VALUES (0);
CREATE TABLE control (stop boolean NOT NULL);
INSERT INTO control VALUES (false);
CREATE TABLE filler AS SELECT g AS id, md5(g::text) AS payload FROM generate_series(1, 100000) AS g;
`;

/** One transaction per iteration: a parent, two children, a transfer of 3 and the progress counter. */
const WRITER = `
DO $$
DECLARE p bigint;
BEGIN
  LOOP
    EXIT WHEN (SELECT stop FROM control);
    INSERT INTO parent DEFAULT VALUES RETURNING id INTO p;
    INSERT INTO child (parent_id, amount) VALUES (p, 1), (p, 2);
    UPDATE account SET balance = balance - 3 WHERE id = 1;
    UPDATE account SET balance = balance + 3 WHERE id = 2;
    UPDATE progress SET transactions = transactions + 1;
    COMMIT;
    PERFORM pg_sleep(0.002);
  END LOOP;
END $$;
`;

async function count(table: string, database?: string): Promise<number> {
  return Number((await pg.psql(`SELECT count(*) FROM ${table};`, database)).trim());
}

/** Name -> size of every file in a snapshot folder, to prove a failure deleted nothing. */
async function folderFiles(dir: string): Promise<Record<string, string>> {
  const out = await testEngine.run(['exec', pg.container, 'find', dir, '-mindepth', '1', '-maxdepth', '1', '-type', 'f', '-printf', '%f %s\n']);
  return Object.fromEntries(out.split('\n').filter(Boolean).map((line) => line.split(' ') as [string, string]));
}

/** Holds an ACCESS EXCLUSIVE lock on `parent` in another session until `release()`. */
async function holdTableLock(): Promise<{ release(): Promise<void> }> {
  const app = uniqueName('tk-test-locker');
  const session = testEngine.exec(
    ['exec', '--interactive', '-e', `PGAPPNAME=${app}`, pg.container, 'psql', '-X', '-q', `--username=${pg.user}`, `--dbname=${pg.database}`],
    { input: 'BEGIN;\nLOCK TABLE parent IN ACCESS EXCLUSIVE MODE;\nSELECT pg_sleep(120);\n' },
  );
  const deadline = Date.now() + 20_000;
  while (
    (await pg.psql(
      `SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = '${app}' AND l.mode = 'AccessExclusiveLock' AND l.granted AND l.relation = 'parent'::regclass;`,
    )).trim() !== '1'
  ) {
    if (Date.now() > deadline) throw new Error('the test session never got its table lock');
    await sleep(100);
  }
  return {
    async release() {
      await pg.psql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '${app}';`);
      await session;
    },
  };
}

before(async () => {
  await requireDocker();
  pg = await startPostgres();
  spec = {
    database: { container: pg.container, name: pg.database, user: pg.user },
    snapshots: { dir: SNAPSHOTS, retentionDays: 7, lockWaitTimeoutMs: 1000 },
  };
  await pg.psql(SCHEMA);
});

after(async () => {
  await pg?.remove();
});

describe('pg_dump snapshots against a real PostgreSQL', () => {
  test('a snapshot taken while writes continue restores to one consistent point', async () => {
    const writer = pg.psql(WRITER);
    try {
      while ((await count('parent')) < 50) await sleep(50);
      const before = await count('parent');
      const snapshot = await takeSnapshot(testEngine, spec, { commit: 'aaaa1111' });
      const afterSnapshot = await count('parent');
      assert.ok(afterSnapshot > before, `writes went on during the snapshot (${before} -> ${afterSnapshot})`);

      assert.match(snapshot.name, /^tk_\d{8}T\d{6}Z_aaaa1111\.dump$/);
      assert.equal(snapshot.verified, true);
      assert.match(snapshot.sha256 ?? '', /^[0-9a-f]{64}$/);
      assert.ok(snapshot.size > 100_000);
      const listed = (await listSnapshots(testEngine, spec)).find((s) => s.name === snapshot.name);
      assert.deepEqual(listed, snapshot);
      assert.equal((await latestSnapshot(testEngine, spec))?.name, snapshot.name);

      const restoredDb = 'tk_restored_consistent';
      await restoreSnapshot(testEngine, spec, snapshot.name, restoredDb);
      const parents = await count('parent', restoredDb);
      assert.ok(parents >= before && parents <= afterSnapshot, `restored ${parents} between ${before} and ${afterSnapshot}`);
      const [transactions, children, amounts, total, received, orphans, foreignKeys, filler] = (
        await pg.psql(
          `SELECT (SELECT transactions FROM progress), (SELECT count(*) FROM child), (SELECT sum(amount) FROM child),
                  (SELECT sum(balance) FROM account), (SELECT balance FROM account WHERE id = 2),
                  (SELECT count(*) FROM child c LEFT JOIN parent p ON p.id = c.parent_id WHERE p.id IS NULL),
                  (SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = 'child'::regclass),
                  (SELECT count(*) FROM filler);`,
          restoredDb,
        )
      )
        .trim()
        .split('|')
        .map(Number);
      assert.deepEqual(
        { transactions, children, amounts, total, received, orphans, foreignKeys, filler },
        { transactions: parents, children: 2 * parents, amounts: 3 * parents, total: 1_000_000, received: 3 * parents, orphans: 0, foreignKeys: 1, filler: 100_000 },
      );
    } finally {
      await pg.psql('UPDATE control SET stop = true;');
      await writer;
    }
    assert.ok((await count('parent')) > 0);
  });

  test('a truncated snapshot fails verification and is refused for a restore', async () => {
    const snapshot = await takeSnapshot(testEngine, spec, { commit: 'bbbb2222' });
    assert.deepEqual((await verifySnapshot(testEngine, spec, snapshot.name)).problems, []);
    await testEngine.run(['exec', pg.container, 'truncate', `--size=${Math.floor(snapshot.size / 2)}`, snapshot.path]);
    const verification = await verifySnapshot(testEngine, spec, snapshot.name);
    assert.equal(verification.ok, false);
    assert.equal(verification.recordedSha256, snapshot.sha256);
    assert.notEqual(verification.actualSha256, snapshot.sha256);
    assert.match(verification.problems.join('\n'), /the file changed after it was taken/);
    assert.match(verification.problems.join('\n'), /pg_restore cannot read it/);
    await assert.rejects(restoreSnapshot(testEngine, spec, snapshot.name, 'tk_restored_truncated'), /does not match its recorded checksum/);
    await testEngine.run(['exec', pg.container, 'rm', '-f', snapshot.path, `${snapshot.path}.sha256`]);
  });

  test('a dump that cannot get its table lock in time aborts, leaves no file under the final name and deletes nothing else', async () => {
    const filesBefore = await folderFiles(SNAPSHOTS);
    assert.ok(Object.keys(filesBefore).some((name) => name.endsWith('.dump')), 'an earlier snapshot is there to be kept');
    const lock = await holdTableLock();
    let failure: unknown;
    try {
      const started = Date.now();
      failure = await takeSnapshot(testEngine, spec, { commit: 'cccc3333' }).catch((error: unknown) => error);
      assert.ok(Date.now() - started < 30_000, 'pg_dump stopped waiting after the lock wait timeout');
    } finally {
      await lock.release();
    }
    assert.ok(failure instanceof DeployError, String(failure));
    assert.match(failure.message, /^Snapshot of database tk failed at pg_dump: .*LOCK TABLE.*; no migration was run/s);
    assert.match(failure.message, /fix: a session holds a lock pg_dump waited for longer than 1000 ms/);

    const filesAfter = await folderFiles(SNAPSHOTS);
    const added = Object.keys(filesAfter).filter((name) => !(name in filesBefore));
    assert.equal(added.length, 1, `only a failure record is added: ${added.join(', ')}`);
    assert.match(added[0]!, /^tk_\d{8}T\d{6}Z_cccc3333\.dump\.failed$/);
    const { [added[0]!]: _record, ...kept } = filesAfter;
    assert.deepEqual(kept, filesBefore);
    const reason = await testEngine.run(['exec', pg.container, 'cat', `${SNAPSHOTS}/${added[0]!}`]);
    assert.match(reason, /failed at pg_dump/);
  });

  test('a dump of a database that does not exist aborts and deletes nothing else', async () => {
    const filesBefore = await folderFiles(SNAPSHOTS);
    const wrong: SnapshotSpec = { ...spec, database: { ...spec.database, name: 'no_such_db' } };
    await assert.rejects(takeSnapshot(testEngine, wrong, { commit: 'dddd4444' }), /failed at pg_dump: .*database "no_such_db" does not exist/s);
    const filesAfter = await folderFiles(SNAPSHOTS);
    assert.deepEqual(
      Object.keys(filesAfter).filter((name) => !(name in filesBefore)).map((name) => name.replace(/\d{8}T\d{6}Z/, 'T')),
      ['no_such_db_T_dddd4444.dump.failed'],
    );
    for (const [name, size] of Object.entries(filesBefore)) assert.equal(filesAfter[name], size, name);
  });

  test('a database container without pg_dump aborts the snapshot: it is never skipped', async () => {
    const container = uniqueName('tk-test-nopgdump');
    const volume = `${container}-snapshots`;
    try {
      await testEngine.run(['run', '--detach', '--name', container, '--network', 'none', '--volume', `${volume}:/snapshots`, TEST_IMAGES.base, 'sleep', 'infinity']);
      const bare: SnapshotSpec = { ...spec, database: { ...spec.database, container }, snapshots: { ...spec.snapshots, dir: '/snapshots' } };
      await assert.rejects(takeSnapshot(testEngine, bare, { commit: 'eeee5555' }), (error: unknown) => {
        assert.ok(error instanceof DeployError);
        assert.match(error.message, /failed at pg_dump: exit 127/);
        assert.match(error.message, /must provide pg_dump, pg_restore, sha256sum and timeout .*never skipped/);
        return true;
      });
      const left = await testEngine.run(['exec', container, 'ls', '/snapshots']);
      assert.doesNotMatch(left, /\.dump(\.partial|\.sha256)?$/m);
    } finally {
      await testEngine.exec(['container', 'rm', '--force', '--volumes', container]);
      await testEngine.exec(['volume', 'rm', '--force', volume]);
    }
  });

  test('a snapshot folder that is not a mounted volume is refused before pg_dump runs', async () => {
    const unmounted: SnapshotSpec = { ...spec, snapshots: { ...spec.snapshots, dir: '/tmp' } };
    await assert.rejects(takeSnapshot(testEngine, unmounted, { commit: 'ffff6666' }), /\/tmp is not a mounted volume in .*snapshots would vanish with the container/);
  });

  test('retention keeps the newest snapshot, deletes old ones, and deletes nothing after a failed snapshot', async () => {
    // Retention starts from an empty folder: the earlier tests' snapshots and failure records go.
    await testEngine.run(['exec', pg.container, 'find', SNAPSHOTS, '-mindepth', '1', '-delete']);
    const retained: SnapshotSpec = { ...spec, snapshots: { ...spec.snapshots, retentionDays: 7 } };
    const now = new Date();
    const names = async () => (await readSnapshotFolder(testEngine, retained)).snapshots.map((s) => s.name);
    const take = (daysAgo: number, commit: string) => takeSnapshot(testEngine, retained, { commit, now: new Date(now.getTime() - daysAgo * DAY) });

    await take(10, 'a10');
    await take(9, 'a9');
    const newestOld = await take(8, 'a8');
    let result = await applyRetention(testEngine, retained, now);
    assert.equal(result.deleted.length, 4);
    assert.deepEqual(await names(), [newestOld.name], 'all are older than 7 days, the newest stays');

    const recent = [await take(2, 'b2'), await take(1, 'b1')];
    result = await applyRetention(testEngine, retained, now);
    assert.deepEqual(result.deleted, [newestOld.name, `${newestOld.name}.sha256`]);
    assert.deepEqual(await names(), recent.map((s) => s.name));

    const lock = await holdTableLock();
    try {
      await assert.rejects(take(0, 'c0'), DeployError);
    } finally {
      await lock.release();
    }
    const later = new Date(now.getTime() + 30 * DAY);
    result = await applyRetention(testEngine, retained, later);
    assert.deepEqual(result.deleted, []);
    assert.match(result.heldBack ?? '', /did not finish verified: tk_\d{8}T\d{6}Z_c0\.dump\.failed/);
    assert.deepEqual(await names(), recent.map((s) => s.name));

    const fresh = await takeSnapshot(testEngine, retained, { commit: 'd0', now: new Date(now.getTime() + 1000) });
    result = await applyRetention(testEngine, retained, later);
    assert.equal(result.heldBack, undefined);
    const folder = await readSnapshotFolder(testEngine, retained);
    assert.deepEqual(folder.snapshots.map((s) => s.name), [fresh.name]);
    assert.deepEqual(folder.traces, [], 'the old failure record went with the old snapshots');
  });
});
