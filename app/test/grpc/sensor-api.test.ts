import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs/minimal.js';
import { createApiKey, listApiKeys, revokeApiKey } from '../../src/db/api-keys.js';
import { openDatabase } from '../../src/db/connect.js';
import { listRecentEvents } from '../../src/db/events.js';
import { createRule, deleteRule, editRule, setRuleState } from '../../src/db/rules.js';
import { DEFAULT_TENANT_ID } from '../../src/db/types.js';
import { UserError } from '../../src/errors.js';
import { loadSensorApiDefinition, SENSOR_API_SERVICE } from '../../src/grpc/proto.js';
import { jsonToStruct } from '../../src/grpc/struct.js';
import { callFailure, callWithBytes, connectSensorClient, type WireMessage } from '../support/sensor-client.js';
import { createTestDatabase } from '../support/databases.js';
import { equalsRule, failWhenMissingRule, SECRET_A, SECRET_B } from './fixtures.js';
import { GatedDatabase } from './gated-database.js';
import {
  counterValue, runSensorApi, startSensorApiFixture, TEST_MAX_BATCH_SIZE, TEST_MAX_MESSAGE_BYTES, type SensorApiFixture,
} from './harness.js';

const T = DEFAULT_TENANT_ID;

function wireEvent(eventId: string, payload: Record<string, unknown>, extra: WireMessage = {}): WireMessage {
  return { eventId, payload: jsonToStruct(payload), ...extra };
}

function ruleIds(response: WireMessage): string[] {
  return (response.rules as WireMessage[]).map((rule) => String(rule.ruleId));
}

/** The bytes of a google.protobuf.Struct nesting `levels` objects: {"a": {"a": ... {}}}. */
function nestedPayload(levels: number): Uint8Array {
  let struct: Uint8Array = new Uint8Array(0);
  for (let level = 0; level < levels; level++) {
    const value = protobuf.Writer.create().uint32((5 << 3) | 2).bytes(struct).finish();
    const entry = protobuf.Writer.create().uint32((1 << 3) | 2).string('a').uint32((2 << 3) | 2).bytes(value).finish();
    struct = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(entry).finish();
  }
  return struct;
}

/** A ReportEvents call with these exact request bytes, with the fixture's key; resolves to the response bytes. */
function callRaw(api: SensorApiFixture, request: Buffer): Promise<Buffer> {
  return callWithBytes(api.server.port, 'ReportEvents', request, { apiKey: api.apiKey });
}

describe('sensor API on sqlite', () => {
  let api: SensorApiFixture;
  before(async () => {
    api = await startSensorApiFixture('sqlite');
  });
  after(async () => {
    await api?.close();
  });

  describe('health', () => {
    test('the health service answers SERVING without an API key', async () => {
      assert.equal(await api.client.healthCheck(''), 'SERVING');
      assert.equal(await api.client.healthCheck(SENSOR_API_SERVICE), 'SERVING');
    });
  });

  describe('SyncRules', () => {
    test('serves active rules as wire rules, with the ETag in the body and the etag header', async () => {
      const rule = await createRule(api.db, T, equalsRule('wire shape', 'wire_field', 'x', { sampleRate: 0.25 }));
      const { response, headers } = await api.client.syncRules({ tags: [] }, { apiKey: api.apiKey });
      assert.match(response.etag, /^[0-9a-f]{64}$/);
      assert.deepEqual(headers.get('etag'), [response.etag]);
      const served = (response.rules as WireMessage[]).find((r) => r.ruleId === rule.ruleId);
      assert.ok(served, 'the active rule is served');
      assert.equal(served.name, 'wire shape');
      assert.equal(served.state, 'RULE_STATE_ACTIVE');
      assert.equal(served.action, 'ACTION_OBSERVE');
      assert.equal(served.sampleRate, 0.25);
      assert.equal('description' in served, false, 'the wire Rule has no description');
      const createdMs = Date.parse(rule.createdAt);
      assert.deepEqual(served.createdAt, { seconds: Math.floor(createdMs / 1000), nanos: (createdMs % 1000) * 1_000_000 });
      const condition = served.orGroups[0].conditions[0];
      assert.deepEqual(condition.fieldPath.segments[0].fieldName, 'wire_field');
      assert.equal(condition.op, 'OPERATOR_EQ');
      assert.equal(condition.value.stringValue, 'x');
    });

    test('a matching if-none-match gets no rules and the same ETag, body and header', async () => {
      await createRule(api.db, T, equalsRule('etag rule', 'etag_field', 1));
      const first = await api.client.syncRules({ tags: [] }, { apiKey: api.apiKey });
      assert.ok(first.response.rules.length > 0);
      const hitsBefore = await counterValue(api.metrics, 'trapperkeeper_rule_sync_etag_hits_total');
      const again = await api.client.syncRules({ tags: [] }, { apiKey: api.apiKey, metadata: { 'if-none-match': first.response.etag } });
      assert.deepEqual(again.response.rules, []);
      assert.equal(again.response.etag, first.response.etag);
      assert.deepEqual(again.headers.get('etag'), [first.response.etag]);
      assert.equal(await counterValue(api.metrics, 'trapperkeeper_rule_sync_etag_hits_total'), hitsBefore + 1);
    });

    test('a stale if-none-match gets the rules and the new ETag', async () => {
      const before = await api.client.syncRules({ tags: [] }, { apiKey: api.apiKey });
      const added = await createRule(api.db, T, equalsRule('stale etag rule', 'stale_field', 1));
      const after = await api.client.syncRules({ tags: [] }, { apiKey: api.apiKey, metadata: { 'if-none-match': before.response.etag } });
      assert.notEqual(after.response.etag, before.response.etag);
      assert.ok(ruleIds(after.response).includes(added.ruleId));
    });

    test('scope tags decide which sensors get a rule', async () => {
      const scoped = await createRule(api.db, T, equalsRule('scoped prod eu', 'scope_field', 1, {
        scopeTags: [{ key: 'env', value: 'prod' }, { key: 'region', value: 'eu' }],
      }));
      const sync = async (tags: string[]) => ruleIds((await api.client.syncRules({ tags }, { apiKey: api.apiKey })).response);
      assert.ok((await sync(['env=prod', 'region=eu'])).includes(scoped.ruleId));
      assert.ok((await sync(['prod', 'eu', 'other=tag'])).includes(scoped.ruleId), 'bare values match any key');
      assert.ok(!(await sync(['env=prod'])).includes(scoped.ruleId), 'every scope tag must be matched');
      assert.ok(!(await sync(['env=staging', 'region=eu'])).includes(scoped.ruleId));
      assert.ok(!(await sync([])).includes(scoped.ruleId));
    });

    test('draft, disabled and deleted rules are not served', async () => {
      const draft = await createRule(api.db, T, equalsRule('draft rule', 'state_field', 1, { state: 'RULE_STATE_DRAFT' }));
      const disabled = await createRule(api.db, T, equalsRule('disabled rule', 'state_field', 1));
      await setRuleState(api.db, T, disabled.ruleId, 'RULE_STATE_DISABLED');
      const deleted = await createRule(api.db, T, equalsRule('deleted rule', 'state_field', 1));
      await deleteRule(api.db, T, deleted.ruleId);
      const ids = ruleIds((await api.client.syncRules({ tags: [] }, { apiKey: api.apiKey })).response);
      for (const hidden of [draft, disabled, deleted]) assert.ok(!ids.includes(hidden.ruleId), hidden.name);
    });

    test('a rule with sample rate 0 is served with its sample rate', async () => {
      const never = await createRule(api.db, T, equalsRule('never sampled', 'sample_field', 1, { sampleRate: 0 }));
      const served = (await api.client.syncRules({ tags: [] }, { apiKey: api.apiKey })).response.rules.find(
        (rule: WireMessage) => rule.ruleId === never.ruleId,
      );
      assert.equal(served?.sampleRate, 0);
    });
  });

  describe('ReportEvents', () => {
    test('accepted events are stored with the rules they matched, including FAIL-policy errors', async () => {
      const hot = await createRule(api.db, T, equalsRule('hot reading', 'temp', 100));
      const scopedHot = await createRule(api.db, T, equalsRule('hot in staging', 'temp', 100, { scopeTags: [{ key: 'env', value: 'staging' }] }));
      const strict = await createRule(api.db, T, failWhenMissingRule('needs pressure', 'pressure'));
      await createRule(api.db, T, equalsRule('hot draft', 'temp', 100, { state: 'RULE_STATE_DRAFT' }));

      const { response } = await api.client.reportEvents(
        {
          sensorId: 'sensor-7',
          events: [
            wireEvent('match-1', { temp: 100, pressure: 3 }, { metadata: { host: 'a' } }),
            wireEvent('match-2', { temp: 5 }),
          ],
        },
        { apiKey: api.apiKey },
      );
      assert.equal(response.acceptedCount, 2);
      assert.equal(response.rejectedCount, 0);
      assert.deepEqual(response.results.map((r: WireMessage) => [r.eventId, r.status]), [
        ['match-1', 'EVENT_STATUS_ACCEPTED'],
        ['match-2', 'EVENT_STATUS_ACCEPTED'],
      ]);

      const recent = await listRecentEvents(api.db, T, 50);
      const first = recent.find((e) => e.eventId === 'match-1');
      const second = recent.find((e) => e.eventId === 'match-2');
      assert.equal(first?.sensorId, 'sensor-7');
      assert.deepEqual(first?.metadata, { host: 'a' });
      assert.deepEqual(JSON.parse(first?.payload ?? ''), { temp: 100, pressure: 3 });
      // Matching ignores scope tags (the request does not carry the sensor's tags).
      assert.deepEqual(first?.matches.map((m) => m.ruleId).sort(), [hot.ruleId, scopedHot.ruleId, strict.ruleId].sort());
      assert.ok(first?.matches.every((m) => m.error === null));
      assert.equal(second?.matches.length, 1);
      assert.equal(second?.matches[0]?.ruleId, strict.ruleId);
      assert.equal(second?.matches[0]?.action, 'ACTION_FAIL');
      assert.ok((second?.matches[0]?.error ?? '').length > 0, 'the evaluation error is recorded');
    });

    test('a re-sent event is accepted again but stored once', async () => {
      const batch = { events: [wireEvent('resend-1', { v: 1 })] };
      const first = await api.client.reportEvents(batch, { apiKey: api.apiKey });
      const second = await api.client.reportEvents(
        { events: [wireEvent('resend-1', { v: 2 }), wireEvent('resend-2', { v: 1 })] },
        { apiKey: api.apiKey },
      );
      assert.equal(first.response.acceptedCount, 1);
      assert.equal(second.response.acceptedCount, 2);
      assert.equal(second.response.results[0].status, 'EVENT_STATUS_ACCEPTED');
      const stored = (await listRecentEvents(api.db, T, 100)).filter((e) => e.eventId === 'resend-1');
      assert.equal(stored.length, 1);
      assert.deepEqual(JSON.parse(stored[0]?.payload ?? ''), { v: 1 });
    });

    test('an empty batch and a batch over the limit are INVALID_ARGUMENT', async () => {
      const empty = await callFailure(api.client.reportEvents({ events: [] }, { apiKey: api.apiKey }));
      assert.equal(empty.code, grpc.status.INVALID_ARGUMENT);
      const events = Array.from({ length: TEST_MAX_BATCH_SIZE + 1 }, (_, i) => wireEvent(`over-${i}`, {}));
      const over = await callFailure(api.client.reportEvents({ events }, { apiKey: api.apiKey }));
      assert.equal(over.code, grpc.status.INVALID_ARGUMENT);
      assert.match(over.details, new RegExp(`at most ${TEST_MAX_BATCH_SIZE}`));
      const full = Array.from({ length: TEST_MAX_BATCH_SIZE }, (_, i) => wireEvent(`full-${i}`, {}));
      assert.equal((await api.client.reportEvents({ events: full }, { apiKey: api.apiKey })).response.acceptedCount, TEST_MAX_BATCH_SIZE);
    });

    test('invalid events are rejected one by one with a reason, the rest accepted', async () => {
      const acceptedBefore = await counterValue(api.metrics, 'trapperkeeper_events_accepted_total');
      const rejectedBefore = await counterValue(api.metrics, 'trapperkeeper_events_rejected_total');
      const batchesBefore = await counterValue(api.metrics, 'trapperkeeper_event_write_batches_total');
      const manyPairs = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
      const { response } = await api.client.reportEvents(
        {
          events: [
            wireEvent('', { a: 1 }),
            wireEvent('too-many-pairs', {}, { metadata: manyPairs }),
            wireEvent('long-key', {}, { metadata: { ['k'.repeat(129)]: 'v' } }),
            wireEvent('long-value', {}, { metadata: { k: 'v'.repeat(1025) } }),
            wireEvent('fine', { ok: true }),
          ],
        },
        { apiKey: api.apiKey },
      );
      assert.equal(response.acceptedCount, 1);
      assert.equal(response.rejectedCount, 4);
      const byId = new Map<string, WireMessage>(response.results.map((r: WireMessage) => [r.eventId, r]));
      assert.equal(response.results[0].status, 'EVENT_STATUS_REJECTED');
      assert.match(response.results[0].errorMessage, /event_id is required/);
      assert.match(byId.get('too-many-pairs')?.errorMessage, /65 pairs/);
      assert.match(byId.get('long-key')?.errorMessage, /longer than 128/);
      assert.match(byId.get('long-value')?.errorMessage, /longer than 1024/);
      assert.equal(byId.get('fine')?.status, 'EVENT_STATUS_ACCEPTED');
      assert.equal(byId.get('fine')?.errorMessage, '');
      assert.ok(!(await listRecentEvents(api.db, T, 100)).some((e) => e.eventId === 'long-key'));
      assert.equal(await counterValue(api.metrics, 'trapperkeeper_events_accepted_total'), acceptedBefore + 1);
      assert.equal(await counterValue(api.metrics, 'trapperkeeper_events_rejected_total'), rejectedBefore + 4);
      assert.equal(await counterValue(api.metrics, 'trapperkeeper_event_write_batches_total'), batchesBefore + 1);
      assert.ok(await counterValue(api.metrics, 'trapperkeeper_event_write_transactions_total') >= 1);
    });

    test('a payload over 1 MiB is rejected while the rest of the batch is accepted', async () => {
      const { response } = await api.client.reportEvents(
        { events: [wireEvent('huge', { blob: 'x'.repeat(1024 * 1024) }), wireEvent('small', { a: 1 })] },
        { apiKey: api.apiKey },
      );
      assert.equal(response.results[0].status, 'EVENT_STATUS_REJECTED');
      assert.match(response.results[0].errorMessage, /payload is \d+ bytes/);
      assert.equal(response.results[1].status, 'EVENT_STATUS_ACCEPTED');
    });

    test('a message over the size limit is RESOURCE_EXHAUSTED and the server keeps serving', async () => {
      const tooBig = { events: [wireEvent('too-big', { blob: 'x'.repeat(TEST_MAX_MESSAGE_BYTES + 10) })] };
      const failure = await callFailure(api.client.reportEvents(tooBig, { apiKey: api.apiKey }));
      assert.equal(failure.code, grpc.status.RESOURCE_EXHAUSTED);
      const next = await api.client.reportEvents({ events: [wireEvent('after-too-big', {})] }, { apiKey: api.apiKey });
      assert.equal(next.response.acceptedCount, 1);
      assert.equal(await counterValue(api.metrics, 'trapperkeeper_grpc_requests_total', { method: 'ReportEvents', code: 'RESOURCE_EXHAUSTED' }), 1);
    });

    test('a rule activated, edited, disabled or deleted between batches applies from the next batch on', async () => {
      const name = 'changes between batches';
      const draft = await createRule(api.db, T, equalsRule(name, 'between', 1, { state: 'RULE_STATE_DRAFT' }));
      let ruleId = draft.ruleId;
      const matchedBy = async (eventId: string, value: number): Promise<string[]> => {
        await api.client.reportEvents({ events: [wireEvent(eventId, { between: value })] }, { apiKey: api.apiKey });
        const stored = (await listRecentEvents(api.db, T, 100)).find((event) => event.eventId === eventId);
        return (stored?.matches ?? []).filter((match) => match.ruleName === name).map((match) => match.ruleId);
      };
      assert.deepEqual(await matchedBy('between-draft', 1), []);
      await setRuleState(api.db, T, ruleId, 'RULE_STATE_ACTIVE');
      assert.deepEqual(await matchedBy('between-active', 1), [ruleId]);
      ruleId = (await editRule(api.db, T, ruleId, equalsRule(name, 'between', 2))).ruleId;
      assert.deepEqual(await matchedBy('between-edited-old-value', 1), []);
      assert.deepEqual(await matchedBy('between-edited-new-value', 2), [ruleId]);
      await setRuleState(api.db, T, ruleId, 'RULE_STATE_DISABLED');
      assert.deepEqual(await matchedBy('between-disabled', 2), []);
      await setRuleState(api.db, T, ruleId, 'RULE_STATE_ACTIVE');
      assert.deepEqual(await matchedBy('between-reactivated', 2), [ruleId]);
      await deleteRule(api.db, T, ruleId);
      assert.deepEqual(await matchedBy('between-deleted', 2), []);
    });

    test('a payload nested deeper than protobuf allows is rejected alone, the rest of the batch accepted', async () => {
      // Hand-encoded: proto-loader's client refuses to encode it, a sensor in another language might not.
      const tooDeep = nestedPayload(60);
      const request = protobuf.Writer.create();
      for (const [eventId, payload] of [['too-deep', tooDeep], ['shallow', nestedPayload(2)]] as const) {
        request.uint32((1 << 3) | 2).bytes(protobuf.Writer.create().uint32((1 << 3) | 2).string(eventId).uint32((2 << 3) | 2).bytes(payload).finish());
      }
      const method = loadSensorApiDefinition().service.ReportEvents as unknown as { responseDeserialize(bytes: Buffer): WireMessage };
      const response = method.responseDeserialize(await callRaw(api, Buffer.from(request.finish())));
      assert.deepEqual(response.results.map((r: WireMessage) => [r.eventId, r.status]), [
        ['too-deep', 'EVENT_STATUS_REJECTED'],
        ['shallow', 'EVENT_STATUS_ACCEPTED'],
      ]);
      assert.match(response.results[0].errorMessage, /payload nests deeper than/);
      const stored = (await listRecentEvents(api.db, T, 100)).find((event) => event.eventId === 'shallow');
      assert.deepEqual(JSON.parse(stored?.payload ?? ''), { a: { a: {} } });
    });

    test('bytes that are not a protobuf message fail that call only, as INVALID_ARGUMENT', async () => {
      await assert.rejects(callRaw(api, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])), (error: grpc.ServiceError) => {
        assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
        assert.match(error.details, /not a valid ReportEventsRequest/);
        return true;
      });
      const next = await api.client.reportEvents({ events: [wireEvent('after-garbage', {})] }, { apiKey: api.apiKey });
      assert.equal(next.response.acceptedCount, 1);
    });
  });

  describe('authentication', () => {
    async function codeOf(options: { apiKey?: string }): Promise<grpc.status> {
      return (await callFailure(api.client.syncRules({ tags: [] }, options))).code;
    }

    test('a missing key is UNAUTHENTICATED', async () => {
      const failure = await callFailure(api.client.syncRules({ tags: [] }, {}));
      assert.equal(failure.code, grpc.status.UNAUTHENTICATED);
      assert.match(failure.details, /x-api-key/);
      assert.equal(await codeOf({ apiKey: '' }), grpc.status.UNAUTHENTICATED);
    });

    test('a malformed key is UNAUTHENTICATED', async () => {
      assert.equal(await codeOf({ apiKey: 'not-a-key' }), grpc.status.UNAUTHENTICATED);
      assert.equal(await codeOf({ apiKey: api.apiKey.toUpperCase() }), grpc.status.UNAUTHENTICATED);
    });

    test('an unknown key, or one of an unconfigured secret, is UNAUTHENTICATED', async () => {
      assert.equal(await codeOf({ apiKey: `tk-v1-${SECRET_A.id}-${randomBytes(32).toString('hex')}` }), grpc.status.UNAUTHENTICATED);
      assert.equal(await codeOf({ apiKey: `tk-v1-${'c'.repeat(32)}-${randomBytes(32).toString('hex')}` }), grpc.status.UNAUTHENTICATED);
    });

    test('a key of another tenant is UNAUTHENTICATED', async () => {
      const other = '00000000-0000-7000-8000-0000000000ee';
      const now = new Date();
      await api.db.execute('INSERT INTO tenants (id, name, created_at, modified_at) VALUES (?, ?, ?, ?)', [other, 'other', now, now]);
      const { key } = await createApiKey(api.db, other, 'foreign', SECRET_A);
      assert.equal(await codeOf({ apiKey: key }), grpc.status.UNAUTHENTICATED);
    });

    test('a revoked key is refused with PERMISSION_DENIED on both methods', async () => {
      const { key, record } = await createApiKey(api.db, T, 'to revoke', SECRET_A);
      await api.client.syncRules({ tags: [] }, { apiKey: key });
      await revokeApiKey(api.db, T, record.id);
      assert.equal(await codeOf({ apiKey: key }), grpc.status.PERMISSION_DENIED);
      const report = await callFailure(api.client.reportEvents({ events: [wireEvent('revoked', {})] }, { apiKey: key }));
      assert.equal(report.code, grpc.status.PERMISSION_DENIED);
    });

    test('a successful call records when the key was last used', async () => {
      const { key, record } = await createApiKey(api.db, T, 'last used', SECRET_A);
      await api.client.syncRules({ tags: [] }, { apiKey: key });
      const listed = (await listApiKeys(api.db, T)).find((k) => k.id === record.id);
      assert.notEqual(listed?.lastUsedAt, null);
    });

    test('auth failures are counted by method and code, and no key reaches the logs', async () => {
      const before = await counterValue(api.metrics, 'trapperkeeper_grpc_requests_total', { method: 'SyncRules', code: 'UNAUTHENTICATED' });
      const badKey = `tk-v1-${SECRET_A.id}-${randomBytes(32).toString('hex')}`;
      await callFailure(api.client.syncRules({ tags: [] }, { apiKey: badKey }));
      assert.equal(await counterValue(api.metrics, 'trapperkeeper_grpc_requests_total', { method: 'SyncRules', code: 'UNAUTHENTICATED' }), before + 1);
      const logs = api.logs.text();
      assert.match(logs, /sensor API call refused/);
      assert.ok(!logs.includes(badKey) && !logs.includes(api.apiKey), 'keys are never logged');
    });

    test('a flood of bad keys gets per-call errors and the server keeps serving', async () => {
      const calls = Array.from({ length: 150 }, (_, i) =>
        callFailure(api.client.syncRules({ tags: [] }, {
          apiKey: i % 2 === 0 ? `tk-v1-${SECRET_A.id}-${randomBytes(32).toString('hex')}` : `garbage-${i}`,
        })),
      );
      const codes = new Set((await Promise.all(calls)).map((failure) => failure.code));
      assert.deepEqual([...codes], [grpc.status.UNAUTHENTICATED]);
      assert.ok((await api.client.syncRules({ tags: [] }, { apiKey: api.apiKey })).response.etag);
    });

    test('a key issued under an older secret works while that secret is configured, and not after', async () => {
      const { key: oldKey } = await createApiKey(api.db, T, 'old secret', SECRET_B);
      assert.ok((await api.client.syncRules({ tags: [] }, { apiKey: oldKey })).response.etag);
      const rotated = await runSensorApi(api.db, { hmacSecrets: [SECRET_A] });
      try {
        assert.equal((await callFailure(rotated.client.syncRules({ tags: [] }, { apiKey: oldKey }))).code, grpc.status.UNAUTHENTICATED);
        assert.ok((await rotated.client.syncRules({ tags: [] }, { apiKey: api.apiKey })).response.etag);
      } finally {
        await rotated.stop();
      }
    });
  });
});

describe('sensor API when the database is unreachable', () => {
  test('a closed database answers UNAVAILABLE', async () => {
    const database = await createTestDatabase('sqlite');
    const { key } = await createApiKey(database.db, T, 'sensor', SECRET_A);
    const running = await runSensorApi(database.db);
    try {
      await database.db.close();
      const failure = await callFailure(running.client.syncRules({ tags: [] }, { apiKey: key }));
      assert.equal(failure.code, grpc.status.UNAVAILABLE);
      assert.ok(!running.logs.text().includes(key));
    } finally {
      await running.stop();
      await database.drop();
    }
  });

  test('a PostgreSQL server that refuses connections answers UNAVAILABLE on both methods', async () => {
    const dead = await openDatabase('postgres://postgres@127.0.0.1:1/trapperkeeper', { maxConnections: 1, minIdle: 0, connectionTimeoutMs: 1000 });
    const running = await runSensorApi(dead);
    try {
      const key = `tk-v1-${SECRET_A.id}-${randomBytes(32).toString('hex')}`;
      assert.equal((await callFailure(running.client.syncRules({ tags: [] }, { apiKey: key }))).code, grpc.status.UNAVAILABLE);
      const report = await callFailure(running.client.reportEvents({ events: [wireEvent('e', {})] }, { apiKey: key }));
      assert.equal(report.code, grpc.status.UNAVAILABLE);
      assert.equal(await running.client.healthCheck(''), 'SERVING');
    } finally {
      await running.stop();
      await dead.close();
    }
  });
});

describe('sensor API lifecycle', () => {
  test('drain lets an in-flight call finish and refuses new connections', async () => {
    const database = await createTestDatabase('sqlite');
    const gated = new GatedDatabase(database.db);
    const { key } = await createApiKey(database.db, T, 'sensor', SECRET_A);
    await createRule(database.db, T, equalsRule('in flight', 'x', 1));
    const running = await runSensorApi(gated);
    try {
      const gate = gated.arm('FROM rules');
      const inFlight = running.client.syncRules({ tags: [] }, { apiKey: key });
      await gate.reached;
      const drained = running.server.drain(5000);
      const latecomer = connectSensorClient(running.server.port);
      try {
        const refused = await callFailure(latecomer.syncRules({ tags: [] }, { apiKey: key, deadlineMs: 2000 }));
        assert.equal(refused.code, grpc.status.UNAVAILABLE);
      } finally {
        latecomer.close();
      }
      gate.release();
      const { response } = await inFlight;
      assert.equal(response.rules.length, 1);
      await drained;
    } finally {
      await running.stop();
      await database.drop();
    }
  });

  test('drain cuts calls still running when its timeout passes', async () => {
    const database = await createTestDatabase('sqlite');
    const gated = new GatedDatabase(database.db);
    const { key } = await createApiKey(database.db, T, 'sensor', SECRET_A);
    const running = await runSensorApi(gated);
    const gate = gated.arm('FROM rules');
    try {
      const inFlight = callFailure(running.client.syncRules({ tags: [] }, { apiKey: key }));
      await gate.reached;
      const startedAt = Date.now();
      await running.server.drain(200);
      assert.ok(Date.now() - startedAt < 2000);
      assert.notEqual((await inFlight).code, grpc.status.OK);
    } finally {
      gate.release();
      await running.stop();
      await database.drop();
    }
  });

  test('a bare TCP connection that never speaks does not hold up a drain', async () => {
    const database = await createTestDatabase('sqlite');
    const running = await runSensorApi(database.db);
    const probe = connect(running.server.port, '127.0.0.1');
    probe.on('error', () => {});
    try {
      await once(probe, 'connect');
      const startedAt = Date.now();
      await running.server.drain(3000);
      assert.ok(Date.now() - startedAt < 2500, `drain took ${Date.now() - startedAt} ms`);
    } finally {
      probe.destroy();
      await running.stop();
      await database.drop();
    }
  });

  test('connections beyond maxConnections are refused while admitted ones keep working', async () => {
    const database = await createTestDatabase('sqlite');
    const { key } = await createApiKey(database.db, T, 'sensor', SECRET_A);
    const running = await runSensorApi(database.db, { maxConnections: 1 });
    const second = connectSensorClient(running.server.port);
    try {
      assert.ok((await running.client.syncRules({ tags: [] }, { apiKey: key })).response.etag);
      const refused = await callFailure(second.syncRules({ tags: [] }, { apiKey: key, deadlineMs: 2000 }));
      assert.equal(refused.code, grpc.status.UNAVAILABLE);
      assert.ok((await running.client.syncRules({ tags: [] }, { apiKey: key })).response.etag);
    } finally {
      second.close();
      await running.stop();
      await database.drop();
    }
  });

  test('a port already in use is a UserError naming the port', async () => {
    const database = await createTestDatabase('sqlite');
    const running = await runSensorApi(database.db);
    try {
      await assert.rejects(runSensorApi(database.db, { port: running.server.port }), (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${running.server.port}.*in use`));
        return true;
      });
    } finally {
      await running.stop();
      await database.drop();
    }
  });

  test('setServing(false) turns the health status to NOT_SERVING', async () => {
    const database = await createTestDatabase('sqlite');
    const running = await runSensorApi(database.db);
    try {
      running.server.setServing(false);
      assert.equal(await running.client.healthCheck(''), 'NOT_SERVING');
      assert.equal(await running.client.healthCheck(SENSOR_API_SERVICE), 'NOT_SERVING');
      running.server.setServing(true);
      assert.equal(await running.client.healthCheck(''), 'SERVING');
    } finally {
      await running.stop();
      await database.drop();
    }
  });
});
