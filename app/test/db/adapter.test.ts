import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase } from '../../src/db/connect.js';
import { DEFAULT_TENANT_ID, type Database, type Dialect, type Queryable } from '../../src/db/types.js';
import { createTestDatabase, DIALECTS, TEST_POOL, type TestDatabase } from '../support/databases.js';

const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function insertTenant(db: Pick<Database, 'execute'>, id: string, name: string, at = new Date()): Promise<void> {
  await db.execute('INSERT INTO tenants (id, name, created_at, modified_at) VALUES (?, ?, ?, ?)', [id, name, at, at]);
}

function tenantId(n: number): string {
  return `00000000-0000-7000-8000-${String(1000 + n).padStart(12, '0')}`;
}

/** A TCP port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function unreachableUrl(dialect: Exclude<Dialect, 'sqlite'>, port: number): string {
  return dialect === 'postgres' ? `postgres://tk:s3cret-pw@127.0.0.1:${port}/tk` : `mysql://tk:s3cret-pw@127.0.0.1:${port}/tk`;
}

for (const dialect of DIALECTS) {
  describe(`${dialect} adapter`, () => {
    let test_: TestDatabase;
    let db: Database;
    before(async () => {
      test_ = await createTestDatabase(dialect);
      db = test_.db;
    });
    after(async () => {
      await test_?.drop();
    });

    test('binds ? placeholders in order and leaves a ? inside a string literal alone', async () => {
      await insertTenant(db, tenantId(1), 'what? tenant');
      const rows = await db.query<{ name: string; marker: string }>(
        "SELECT name, 'is it?' AS marker FROM tenants WHERE id = ? AND name <> 'x?' AND name = ?",
        [tenantId(1), 'what? tenant'],
      );
      assert.deepEqual(rows, [{ name: 'what? tenant', marker: 'is it?' }]);
    });

    test('reads timestamps back as ISO-8601 UTC strings with milliseconds, and compares them as times', async () => {
      const at = new Date('2026-01-02T03:04:05.678Z');
      await insertTenant(db, tenantId(2), 'timestamps', at);
      const [row] = await db.query<{ created_at: string; deleted_at: string | null }>(
        'SELECT created_at, deleted_at FROM tenants WHERE id = ?',
        [tenantId(2)],
      );
      assert.equal(row?.created_at, '2026-01-02T03:04:05.678Z');
      assert.equal(row?.deleted_at, null);
      const later = await db.query('SELECT id FROM tenants WHERE id = ? AND created_at > ?', [tenantId(2), new Date('2026-01-02T03:04:05.677Z')]);
      const earlier = await db.query('SELECT id FROM tenants WHERE id = ? AND created_at > ?', [tenantId(2), at]);
      assert.equal(later.length, 1);
      assert.equal(earlier.length, 0);
      const [seeded] = await db.query<{ created_at: string }>('SELECT created_at FROM tenants WHERE id = ?', [DEFAULT_TENANT_ID]);
      assert.match(seeded?.created_at ?? '', ISO_UTC_MS);
    });

    test('returns COUNT(*) and SMALLINT columns as numbers, stores booleans as 0/1 and doubles exactly', async () => {
      const now = new Date();
      await db.execute(
        `INSERT INTO users (id, tenant_id, username, password_hash, is_admin, created_at, modified_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [tenantId(3), DEFAULT_TENANT_ID, 'numbers', 'hash', true, now, now],
      );
      const [user] = await db.query<{ is_admin: unknown }>('SELECT is_admin FROM users WHERE username = ?', ['numbers']);
      assert.equal(user?.is_admin, 1);
      const [count] = await db.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM users WHERE is_admin = ?', [true]);
      assert.equal(count?.n, 1);
      await db.execute(
        `INSERT INTO rules (id, tenant_id, name, state, action, sample_rate, scope_tags, or_groups, created_at, modified_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [tenantId(4), DEFAULT_TENANT_ID, 'r', 'RULE_STATE_ACTIVE', 'ACTION_OBSERVE', 0.25, '[]', '[]', now, now],
      );
      const [rule] = await db.query<{ sample_rate: unknown; description: unknown }>('SELECT sample_rate, description FROM rules WHERE id = ?', [tenantId(4)]);
      assert.deepEqual(rule, { sample_rate: 0.25, description: '' });
    });

    test('execute returns the number of rows a statement matched', async () => {
      await insertTenant(db, tenantId(5), 'count-a');
      await insertTenant(db, tenantId(6), 'count-b');
      const changed = await db.execute("UPDATE tenants SET name = 'counted' WHERE id IN (?, ?)", [tenantId(5), tenantId(6)]);
      assert.equal(changed, 2);
      const unchanged = await db.execute("UPDATE tenants SET name = 'counted' WHERE id IN (?, ?)", [tenantId(5), tenantId(6)]);
      assert.equal(unchanged, 2, 'rows whose value did not change still count as matched');
      assert.equal(await db.execute('DELETE FROM tenants WHERE id = ?', ['no-such-id']), 0);
    });

    test('a transaction commits when its callback resolves and rolls back everything when it throws', async () => {
      const result = await db.transaction(async (tx) => {
        await insertTenant(tx, tenantId(7), 'committed');
        return 'done';
      });
      assert.equal(result, 'done');
      await assert.rejects(
        db.transaction(async (tx) => {
          await insertTenant(tx, tenantId(8), 'rolled back');
          await tx.execute("UPDATE tenants SET name = 'changed' WHERE id = ?", [tenantId(7)]);
          throw new Error('boom');
        }),
        /boom/,
      );
      const rows = await db.query<{ id: string; name: string }>('SELECT id, name FROM tenants WHERE id IN (?, ?) ORDER BY id', [tenantId(7), tenantId(8)]);
      assert.deepEqual(rows, [{ id: tenantId(7), name: 'committed' }]);
    });

    test('a transaction handle kept past the end of its transaction is refused', async () => {
      let kept: Queryable | undefined;
      await db.transaction(async (tx) => {
        kept = tx;
      });
      await assert.rejects(kept!.query('SELECT 1 AS one'), /transaction has already ended/);
    });

    test('a query outside a transaction never sees its uncommitted rows', async () => {
      let inserted!: () => void;
      const insertedRow = new Promise<void>((resolve) => {
        inserted = resolve;
      });
      const transaction = db.transaction(async (tx) => {
        await insertTenant(tx, tenantId(9), 'uncommitted');
        inserted();
        await sleep(50);
        throw new Error('roll it back');
      });
      await insertedRow;
      const outside = await db.query('SELECT id FROM tenants WHERE id = ?', [tenantId(9)]);
      await assert.rejects(transaction, /roll it back/);
      assert.deepEqual(outside, []);
    });

    test('stores and returns a 1 MiB event payload whole', async () => {
      const payload = JSON.stringify({ blob: 'é'.repeat(300_000) + 'x'.repeat(1024 * 1024 - 600_020) });
      assert.ok(Buffer.byteLength(payload) >= 1024 * 1024 - 16);
      const now = new Date();
      await db.execute(
        `INSERT INTO events (id, tenant_id, event_id, sensor_id, payload, metadata, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [tenantId(10), DEFAULT_TENANT_ID, 'big-event', 's1', payload, '{}', now],
      );
      const [row] = await db.query<{ payload: string; received_at: string }>('SELECT payload, received_at FROM events WHERE id = ?', [tenantId(10)]);
      assert.equal(row?.payload, payload);
      assert.equal(row?.received_at, now.toISOString());
    });

    test('ping answers, and poolStats counts the connection a transaction holds', async () => {
      await db.ping(2_000);
      const idle = db.poolStats();
      assert.equal(idle.inUse, 0);
      assert.ok(idle.idle >= 1, 'the connection used by ping went back to the pool');
      assert.equal(idle.max, dialect === 'sqlite' ? 1 : TEST_POOL.maxConnections);
      const during = await db.transaction(async (tx) => {
        await tx.query('SELECT 1 AS one');
        return db.poolStats();
      });
      assert.equal(during.inUse, 1);
      assert.equal(db.poolStats().inUse, 0);
    });

    if (dialect === 'sqlite') {
      test('concurrent transactions on one connection run one after the other, never interleaved', async () => {
        const events: string[] = [];
        const run = (name: string) =>
          db.transaction(async (tx) => {
            events.push(`${name} start`);
            await tx.execute("UPDATE tenants SET name = ? WHERE id = ?", [name, DEFAULT_TENANT_ID]);
            await sleep(20);
            events.push(`${name} end`);
          });
        await Promise.all([run('a'), run('b'), run('c')]);
        assert.deepEqual(events, ['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
        await db.execute("UPDATE tenants SET name = 'default' WHERE id = ?", [DEFAULT_TENANT_ID]);
      });

      test('the database handle used inside a transaction callback joins that transaction instead of deadlocking', async () => {
        await assert.rejects(
          db.transaction(async () => {
            await insertTenant(db, tenantId(11), 'joined');
            const inside = await db.query('SELECT id FROM tenants WHERE id = ?', [tenantId(11)]);
            assert.equal(inside.length, 1);
            await db.transaction(async (inner) => insertTenant(inner, tenantId(12), 'nested'));
            throw new Error('undo both');
          }),
          /undo both/,
        );
        assert.deepEqual(await db.query('SELECT id FROM tenants WHERE id IN (?, ?)', [tenantId(11), tenantId(12)]), []);
      });

      test('a closed database rejects ping', async () => {
        const other = await openDatabase(test_.url);
        await other.close();
        await assert.rejects(other.ping(1_000), /closed/);
      });
    } else {
      test('ping fails fast against a closed port, and neither the URL nor the error shows the password', async () => {
        const unreachable = await openDatabase(unreachableUrl(dialect, await closedPort()), TEST_POOL);
        try {
          assert.ok(!unreachable.redactedUrl.includes('s3cret-pw'));
          assert.match(unreachable.redactedUrl, /tk:\*\*\*@127\.0\.0\.1/);
          const started = Date.now();
          const error = await unreachable.ping(1_500).then(
            () => assert.fail('ping should fail'),
            (e: unknown) => e as Error,
          );
          assert.ok(Date.now() - started < 1_400, `ping took ${Date.now() - started} ms`);
          assert.ok(!String(error.message).includes('s3cret-pw'));
        } finally {
          await unreachable.close();
        }
      });

      test('ping rejects within its timeout when the server accepts but never answers', async () => {
        const sockets: Socket[] = [];
        const silent = createServer((socket) => sockets.push(socket));
        await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
        const address = silent.address();
        const port = typeof address === 'object' && address ? address.port : 0;
        const unanswered = await openDatabase(unreachableUrl(dialect, port), TEST_POOL);
        try {
          const started = Date.now();
          await assert.rejects(unanswered.ping(300), /did not answer within 300 ms/);
          assert.ok(Date.now() - started < 1_000);
        } finally {
          for (const socket of sockets) socket.destroy();
          await unanswered.close().catch(() => {});
          await new Promise<void>((resolve) => silent.close(() => resolve()));
        }
      });
    }
  });
}
