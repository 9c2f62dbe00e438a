import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventWriter } from '../../src/db/event-writer.js';
import type { EventBatch, NewEvent } from '../../src/db/events.js';
import { DEFAULT_TENANT_ID, type Database } from '../../src/db/types.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';

const T = DEFAULT_TENANT_ID;
const UNKNOWN_TENANT = '00000000-0000-7000-8000-00000000beef';
const MATCH = { ruleId: '00000000-0000-7000-8000-0000000000a1', ruleName: 'big', action: 'ACTION_OBSERVE', error: null };

function batch(sensorId: string, eventIds: readonly string[]): EventBatch {
  const events = eventIds.map((eventId): NewEvent => ({
    eventId, payload: JSON.stringify({ eventId }), metadata: {}, clientTimestamp: null, matches: [MATCH],
  }));
  return { sensorId, apiKeyId: null, receivedAt: new Date(), events };
}

function ids(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
}

async function count(db: Database, sql: string, params: string[]): Promise<number> {
  const rows = await db.query<{ n: number | string }>(sql, params);
  return Number(rows[0]?.n ?? 0);
}

const storedEvents = (db: Database, sensorId: string) => count(db, 'SELECT COUNT(*) AS n FROM events WHERE sensor_id = ?', [sensorId]);
const storedMatches = (db: Database, sensorId: string) =>
  count(db, 'SELECT COUNT(*) AS n FROM event_rule_matches m JOIN events e ON e.id = m.event_id WHERE e.sensor_id = ?', [sensorId]);

for (const dialect of DIALECTS) {
  describe(`EventWriter (group commit) on ${dialect}`, () => {
    let test_: TestDatabase;
    before(async () => {
      test_ = await createTestDatabase(dialect);
    });
    after(async () => {
      await test_?.drop();
    });

    test('batches that arrive together share one transaction, and each event is stored once with its matches', async () => {
      const groups: number[] = [];
      const writer = new EventWriter(test_.db, { maxConcurrentWrites: 1, onTransaction: (batches) => groups.push(batches) });
      const batches = Array.from({ length: 6 }, (_, i) => batch(`together-${i}`, ids(`together-${i}`, 20)));
      // The same event re-sent by a sensor whose first call is still being written.
      batches.push(batch('together-resend', ['together-0-0', 'together-resend-new']));
      const results = await Promise.all(batches.map((b) => writer.write(T, b)));

      assert.deepEqual(results.map((r) => r.stored), [20, 20, 20, 20, 20, 20, 1]);
      assert.deepEqual(groups, [7]);
      assert.equal(await storedEvents(test_.db, 'together-3'), 20);
      assert.equal(await storedMatches(test_.db, 'together-3'), 20);
      assert.equal(await storedEvents(test_.db, 'together-resend'), 1);
    });

    test('a batch whose statements fail is rolled back alone; the rest of its transaction is kept', async () => {
      const groups: number[] = [];
      const writer = new EventWriter(test_.db, { maxConcurrentWrites: 1, onTransaction: (batches) => groups.push(batches) });
      const outcomes = await Promise.allSettled([
        writer.write(T, batch('kept-before', ids('kept-before', 5))),
        writer.write(UNKNOWN_TENANT, batch('refused', ids('refused', 5))),
        writer.write(T, batch('kept-after', ids('kept-after', 5))),
      ]);
      assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
      assert.deepEqual(groups, [3]);
      assert.equal(await storedEvents(test_.db, 'kept-before'), 5);
      assert.equal(await storedMatches(test_.db, 'kept-after'), 5);
      assert.equal(await storedEvents(test_.db, 'refused'), 0);
    });

    test('when the shared transaction fails, every batch in it fails and none is stored', async () => {
      const db = test_.db;
      const refusingCommit: Database = Object.create(db, {
        transaction: {
          value: <R>(fn: Parameters<Database['transaction']>[0]) =>
            db.transaction(async (tx) => {
              await fn(tx);
              throw new Error('commit refused');
            }) as Promise<R>,
        },
      });
      const writer = new EventWriter(refusingCommit, { maxConcurrentWrites: 1 });
      const outcomes = await Promise.allSettled(['lost-a', 'lost-b'].map((s) => writer.write(T, batch(s, ids(s, 3)))));
      assert.deepEqual(outcomes.map((o) => o.status === 'rejected' && String(o.reason)), ['Error: commit refused', 'Error: commit refused']);
      assert.equal(await storedEvents(db, 'lost-a') + await storedEvents(db, 'lost-b'), 0);
    });

    test('a transaction takes batches up to maxEventsPerTransaction, the rest go in the next', async () => {
      const groups: number[] = [];
      const writer = new EventWriter(test_.db, { maxConcurrentWrites: 1, maxEventsPerTransaction: 250, onTransaction: (b) => groups.push(b) });
      await Promise.all([0, 1, 2, 3].map((i) => writer.write(T, batch(`split-${i}`, ids(`split-${i}`, 100)))));
      assert.deepEqual(groups, [2, 2]);
      assert.equal(await storedEvents(test_.db, 'split-3'), 100);
    });
  });
}
