import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEventStore, startEventWriterThread, ThreadedEventStore, type EventStore } from '../../src/db/event-store.js';
import { EventWriter } from '../../src/db/event-writer.js';
import type { EventBatch, NewEvent } from '../../src/db/events.js';
import { openDatabase } from '../../src/db/connect.js';
import { runMigrations } from '../../src/db/migrator.js';
import { DEFAULT_TENANT_ID, type Database } from '../../src/db/types.js';
import { createLogger } from '../../src/log/logger.js';
import { LogCapture } from '../grpc/harness.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

const T = DEFAULT_TENANT_ID;
const UNKNOWN_TENANT = '00000000-0000-7000-8000-00000000beef';
const MATCH = { ruleId: '00000000-0000-7000-8000-0000000000a1', ruleName: 'big', action: 'ACTION_OBSERVE', error: null };

function batch(sensorId: string, count: number, prefix = sensorId): EventBatch {
  const events = Array.from({ length: count }, (_, i): NewEvent => ({
    eventId: `${prefix}-${i}`, payload: JSON.stringify({ i }), metadata: { n: String(i) }, clientTimestamp: new Date(0), matches: [MATCH],
  }));
  return { sensorId, apiKeyId: null, receivedAt: new Date(), events };
}

async function storedEvents(db: Database, sensorId: string): Promise<number> {
  const rows = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM events WHERE sensor_id = ?', [sensorId]);
  return Number(rows[0]?.n ?? 0);
}

const logger = () => createLogger({ level: 'debug', pretty: false }, new LogCapture());

describe('event store on a SQLite file: writes on the event writer thread', () => {
  let test_: TestDatabase;
  const stores: EventStore[] = [];
  before(async () => {
    test_ = await createTestDatabase('sqlite');
  });
  after(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await test_?.drop();
  });

  async function threadedStore(onTransaction?: (batches: number) => void): Promise<EventStore> {
    const store = await startEventStore(test_.db, { threaded: true, logger: logger(), onTransaction });
    stores.push(store);
    return store;
  }

  test('batches are committed by the thread, seen by the main connection at once, and counted per transaction', async () => {
    const transactions: number[] = [];
    const store = await threadedStore((batches) => transactions.push(batches));
    assert.equal(store.threaded, true);
    const results = await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => store.write(T, batch(`thread-${i}`, 50))),
      // A sensor's re-send of events already in this group: accepted, stored once.
      store.write(T, batch('thread-resend', 10, 'thread-0')),
    ]);
    assert.deepEqual(results.map((r) => r.stored), [50, 50, 50, 50, 50, 50, 50, 50, 0]);
    assert.equal(await storedEvents(test_.db, 'thread-7'), 50);
    assert.equal(await storedEvents(test_.db, 'thread-resend'), 0);
    const [row] = await test_.db.query<{ metadata: string; matches: number }>(
      `SELECT e.metadata, (SELECT COUNT(*) FROM event_rule_matches m WHERE m.event_id = e.id) AS matches
       FROM events e WHERE e.sensor_id = ? AND e.event_id = ?`, ['thread-3', 'thread-3-7']);
    assert.deepEqual(JSON.parse(row?.metadata ?? 'null'), { n: '7' });
    assert.equal(Number(row?.matches), 1);
    assert.equal(transactions.reduce((sum, batches) => sum + batches, 0), 9);
  });

  test('the main thread keeps serving while the thread writes, which it cannot while it writes itself', async () => {
    /** Ticks of a 5 ms timer while 60 batches of 100 events are written; each batch resolves separately. */
    const ticksDuringWrites = async (store: EventStore, sensor: string): Promise<number> => {
      let ticks = 0;
      const timer = setInterval(() => { ticks += 1; }, 5);
      try {
        await Promise.all(Array.from({ length: 60 }, (_, i) => store.write(T, batch(`${sensor}-${i}`, 100))));
      } finally {
        clearInterval(timer);
      }
      return ticks;
    };
    const threaded = await threadedStore();
    const onMainThread = await startEventStore(test_.db, { threaded: false, logger: logger() });
    const mainTicks = await ticksDuringWrites(onMainThread, 'loop-main');
    const threadTicks = await ticksDuringWrites(threaded, 'loop-thread');
    assert.equal(await storedEvents(test_.db, 'loop-thread-59'), 100);
    // On the main thread the 6,000 events go into back-to-back synchronous transactions: no tick.
    assert.ok(mainTicks <= 1, `${mainTicks} ticks while the main thread wrote`);
    assert.ok(threadTicks >= 3, `${threadTicks} ticks while the writer thread wrote`);
  });

  test('a failing batch is refused with its SQLite error code; the batches beside it are kept', async () => {
    const store = await threadedStore();
    const [bad, good] = await Promise.allSettled([
      store.write(UNKNOWN_TENANT, batch('fk-bad', 3)),
      store.write(T, batch('fk-good', 3)),
    ]);
    assert.equal(bad.status, 'rejected');
    assert.match(String((bad as PromiseRejectedResult).reason.code), /^SQLITE_CONSTRAINT/);
    assert.deepEqual(good, { status: 'fulfilled', value: { stored: 3 } });
    assert.equal(await storedEvents(test_.db, 'fk-bad'), 0);
  });

  test('main-thread writes on the same file run beside the thread\'s without surfacing SQLITE_BUSY', async () => {
    const store = await threadedStore();
    await test_.db.execute('CREATE TABLE IF NOT EXISTS side_writes (n INTEGER NOT NULL)');
    const sideWrites = Array.from({ length: 30 }, (_, n) => test_.db.transaction(async (tx) => {
      await tx.execute('INSERT INTO side_writes (n) VALUES (?)', [n]);
    }));
    const writes = Array.from({ length: 30 }, (_, i) => store.write(T, batch(`beside-${i}`, 100)));
    await Promise.all([...sideWrites, ...writes]);
    const [row] = await test_.db.query<{ n: number }>('SELECT COUNT(*) AS n FROM side_writes');
    assert.equal(Number(row?.n), 30);
    assert.equal(await storedEvents(test_.db, 'beside-29'), 100);
  });

  test('while a crashed writer thread is replaced, batches are written on the main thread', async () => {
    const file = test_.db.file;
    assert.ok(file);
    const thread = await startEventWriterThread(file, test_.db.redactedUrl, { logger: logger() });
    const store = new ThreadedEventStore(thread, new EventWriter(test_.db), undefined);
    stores.push(store);
    assert.deepEqual(await store.write(T, batch('before-crash', 5)), { stored: 5 });
    await thread.leastBusy()?.terminate('killed by the test');
    assert.equal(thread.running(), 0);
    assert.deepEqual(await store.write(T, batch('while-replaced', 5)), { stored: 5 });
    for (let waited = 0; thread.running() < 1 && waited < 10_000; waited += 20) await sleep(20);
    assert.equal(thread.running(), 1);
    assert.deepEqual(await store.write(T, batch('after-replaced', 5)), { stored: 5 });
    assert.equal(await storedEvents(test_.db, 'while-replaced'), 5);
  });

  test('after close, the thread is gone and writes are refused', async () => {
    const store = await threadedStore();
    await store.write(T, batch('before-close', 2));
    await store.close();
    await assert.rejects(store.write(T, batch('after-close', 2)), /event writer thread is stopped/);
    assert.equal(await storedEvents(test_.db, 'before-close'), 2);
  });
});

describe('event store without a thread', () => {
  test('an in-memory SQLite database, or threaded: false, writes on the main thread', async () => {
    const memory = await openDatabase('sqlite::memory:');
    const onFile = await createTestDatabase('sqlite');
    try {
      await runMigrations(memory);
      for (const [db, threaded] of [[memory, true], [onFile.db, false]] as const) {
        const store = await startEventStore(db, { threaded, logger: logger() });
        assert.equal(store.threaded, false);
        assert.deepEqual(await store.write(T, batch('inline', 4)), { stored: 4 });
        assert.equal(await storedEvents(db, 'inline'), 4);
        await store.close();
      }
    } finally {
      await memory.close();
      await onFile.drop();
    }
  });
});
