import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validate, version } from 'uuid';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';
import { insertEvents, listRecentEvents, type NewEvent } from '../../src/db/events.js';
import { DEFAULT_TENANT_ID } from '../../src/db/types.js';

const T = DEFAULT_TENANT_ID;

function event(eventId: string, extra: Partial<NewEvent> = {}): NewEvent {
  return { eventId, payload: JSON.stringify({ id: eventId }), metadata: { source: 'test' }, clientTimestamp: null, matches: [], ...extra };
}

for (const dialect of DIALECTS) {
  describe(`event repository on ${dialect}`, () => {
    let test_: TestDatabase;
    before(async () => {
      test_ = await createTestDatabase(dialect);
    });
    after(async () => {
      await test_?.drop();
    });

    test('events are stored with their matches and listed newest first', async () => {
      const match = { ruleId: '00000000-0000-7000-8000-0000000000a1', ruleName: 'big', action: 'ACTION_OBSERVE', error: null };
      const failed = { ruleId: '00000000-0000-7000-8000-0000000000a2', ruleName: 'strict', action: 'ACTION_FAIL', error: 'field "x" is missing' };
      const older = new Date(Date.now() - 1000);
      await insertEvents(test_.db, T, { sensorId: 's1', apiKeyId: null, receivedAt: older, events: [event('first')] });
      const { stored } = await insertEvents(test_.db, T, {
        sensorId: 's1',
        apiKeyId: null,
        receivedAt: new Date(),
        events: [event('second', { matches: [match, failed], clientTimestamp: new Date('2026-01-01T00:00:00.000Z') })],
      });
      assert.equal(stored, 1);
      const recent = await listRecentEvents(test_.db, T, 2);
      assert.deepEqual(recent.map((e) => e.eventId), ['second', 'first']);
      const second = recent[0];
      assert.equal(second?.sensorId, 's1');
      assert.deepEqual(JSON.parse(second?.payload ?? ''), { id: 'second' });
      assert.deepEqual(second?.metadata, { source: 'test' });
      assert.deepEqual(second?.matches, [match, failed]);
      assert.deepEqual(recent[1]?.matches, []);
      assert.equal((await listRecentEvents(test_.db, T, 1)).length, 1);
      assert.deepEqual(await listRecentEvents(test_.db, T, 0), []);
    });

    test('a re-sent event id is stored once, keeping the first copy and its matches', async () => {
      const match = { ruleId: '00000000-0000-7000-8000-0000000000b1', ruleName: 'once', action: 'ACTION_OBSERVE', error: null };
      const batch = { sensorId: 's2', apiKeyId: null, receivedAt: new Date(), events: [event('dup', { matches: [match] })] };
      assert.equal((await insertEvents(test_.db, T, batch)).stored, 1);
      const resent = { ...batch, events: [event('dup', { payload: '{"changed":true}', matches: [match] }), event('dup-new')] };
      assert.equal((await insertEvents(test_.db, T, resent)).stored, 1);
      const rows = await test_.db.query<{ payload: string }>('SELECT payload FROM events WHERE tenant_id = ? AND event_id = ?', [T, 'dup']);
      assert.deepEqual(rows.map((row) => row.payload), [JSON.stringify({ id: 'dup' })]);
      const matches = await test_.db.query('SELECT id FROM event_rule_matches WHERE rule_id = ?', [match.ruleId]);
      assert.equal(matches.length, 1);
    });

    test('duplicates inside one batch are stored once', async () => {
      const { stored } = await insertEvents(test_.db, T, {
        sensorId: 's3', apiKeyId: null, receivedAt: new Date(), events: [event('twin'), event('twin')],
      });
      assert.equal(stored, 1);
    });

    test('a batch larger than one statement is stored whole', async () => {
      const events = Array.from({ length: 450 }, (_, i) => event(`bulk-${i}`, {
        matches: [{ ruleId: '00000000-0000-7000-8000-0000000000c1', ruleName: 'bulk', action: 'ACTION_OBSERVE', error: null }],
      }));
      assert.equal((await insertEvents(test_.db, T, { sensorId: 'bulk', apiKeyId: null, receivedAt: new Date(), events })).stored, 450);
      const rows = await test_.db.query<{ n: number }>("SELECT COUNT(*) AS n FROM event_rule_matches WHERE rule_name = 'bulk'");
      assert.equal(Number(rows[0]?.n), 450);
    });

    test('row ids are UUIDv7, unique and increasing in the order the events and their matches are listed', async () => {
      const match = (n: number) => ({ ruleId: `00000000-0000-7000-8000-0000000000d${n}`, ruleName: 'ids', action: 'ACTION_OBSERVE', error: null });
      const events = Array.from({ length: 300 }, (_, i) => event(`ids-${i}`, { matches: [match(1), match(2)] }));
      for (const sensorId of ['ids-a', 'ids-b']) {
        await insertEvents(test_.db, T, { sensorId, apiKeyId: null, receivedAt: new Date(), events: events.map((e) => ({ ...e, eventId: `${sensorId}-${e.eventId}` })) });
      }
      const rows = await test_.db.query<{ id: string; event_id: string }>(
        "SELECT id, event_id FROM events WHERE sensor_id IN ('ids-a', 'ids-b')",
      );
      const inInsertOrder = ['ids-a', 'ids-b'].flatMap((sensorId) => events.map((e) => `${sensorId}-${e.eventId}`));
      const idOf = new Map(rows.map((row) => [row.event_id, row.id]));
      const eventIds = inInsertOrder.map((eventId) => idOf.get(eventId) as string);
      const position = new Map(eventIds.map((id, index) => [id, index]));
      const matchIds = (await test_.db.query<{ id: string; event_id: string; rule_id: string }>(
        "SELECT id, event_id, rule_id FROM event_rule_matches WHERE rule_name = 'ids'",
      ))
        .sort((a, b) => (position.get(a.event_id) as number) - (position.get(b.event_id) as number) || (a.rule_id < b.rule_id ? -1 : 1))
        .map((row) => row.id);
      for (const ids of [eventIds, matchIds]) {
        assert.equal(ids.length, ids === eventIds ? 600 : 1200);
        assert.ok(ids.every((id) => validate(id) && version(id) === 7));
        assert.deepEqual(ids, [...ids].sort(), 'each id is greater than the one made before it');
        assert.equal(new Set(ids).size, ids.length);
      }
    });

    test('events of another tenant are not listed', async () => {
      assert.deepEqual(await listRecentEvents(test_.db, '00000000-0000-7000-8000-0000000000ff', 10), []);
    });
  });
}
