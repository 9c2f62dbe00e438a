import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createApiKey, revokeApiKey } from '../../src/db/api-keys.js';
import { listRecentEvents } from '../../src/db/events.js';
import { createRule } from '../../src/db/rules.js';
import { DEFAULT_TENANT_ID } from '../../src/db/types.js';
import { jsonToStruct } from '../../src/grpc/struct.js';
import { callFailure } from '../support/sensor-client.js';
import { DIALECTS } from '../support/databases.js';
import { equalsRule, failWhenMissingRule, SECRET_A } from './fixtures.js';
import { startSensorApiFixture, type SensorApiFixture } from './harness.js';

const T = DEFAULT_TENANT_ID;

// The bulk of the sensor API suite runs on SQLite; this is the happy path on the servers.
for (const dialect of DIALECTS.filter((d) => d !== 'sqlite')) {
  describe(`sensor API on ${dialect}`, () => {
    let api: SensorApiFixture;
    before(async () => {
      api = await startSensorApiFixture(dialect);
    });
    after(async () => {
      await api?.close();
    });

    test('syncs rules with an ETag, records events with their matches, and stores a re-sent event once', async () => {
      const hot = await createRule(api.db, T, equalsRule('hot', 'temp', 100));
      await createRule(api.db, T, equalsRule('half sampled', 'humidity', 1, { sampleRate: 0.5 }));
      const strict = await createRule(api.db, T, failWhenMissingRule('needs pressure', 'pressure'));
      await createRule(api.db, T, equalsRule('elsewhere', 'temp', 1, { scopeTags: [{ key: 'env', value: 'staging' }] }));

      const sync = await api.client.syncRules({ tags: ['env=prod'] }, { apiKey: api.apiKey });
      assert.deepEqual(sync.response.rules.map((r: { name: string }) => r.name).sort(), ['half sampled', 'hot', 'needs pressure']);
      assert.equal(sync.response.rules.find((r: { name: string }) => r.name === 'half sampled').sampleRate, 0.5);
      assert.equal(sync.response.rules.find((r: { name: string }) => r.name === 'hot').sampleRate, 1);
      assert.deepEqual(sync.headers.get('etag'), [sync.response.etag]);
      const cached = await api.client.syncRules({ tags: ['env=prod'] }, { apiKey: api.apiKey, metadata: { 'if-none-match': sync.response.etag } });
      assert.deepEqual(cached.response.rules, []);
      assert.equal(cached.response.etag, sync.response.etag);

      const batch = {
        sensorId: `${dialect}-sensor`,
        clientTimestamp: { seconds: 1_800_000_000, nanos: 0 },
        events: [
          { eventId: 'hot-1', payload: jsonToStruct({ temp: 100, pressure: 2 }), metadata: { rack: '4' } },
          { eventId: 'cold-1', payload: jsonToStruct({ temp: 3 }) },
          { eventId: '', payload: jsonToStruct({}) },
        ],
      };
      const report = await api.client.reportEvents(batch, { apiKey: api.apiKey });
      assert.equal(report.response.acceptedCount, 2);
      assert.equal(report.response.rejectedCount, 1);
      const resent = await api.client.reportEvents(batch, { apiKey: api.apiKey });
      assert.equal(resent.response.acceptedCount, 2);

      const recent = await listRecentEvents(api.db, T, 10);
      assert.deepEqual(recent.map((e) => e.eventId).sort(), ['cold-1', 'hot-1']);
      const hotEvent = recent.find((e) => e.eventId === 'hot-1');
      assert.deepEqual(hotEvent?.metadata, { rack: '4' });
      // Matching ignores scope, but 'elsewhere' wants temp == 1 and 'half sampled' a humidity.
      assert.deepEqual(hotEvent?.matches.map((m) => m.ruleId).sort(), [hot.ruleId, strict.ruleId].sort());
      const coldEvent = recent.find((e) => e.eventId === 'cold-1');
      assert.equal(coldEvent?.matches.length, 1);
      assert.equal(coldEvent?.matches[0]?.ruleId, strict.ruleId);
      assert.notEqual(coldEvent?.matches[0]?.error, null);
    });

    test('a revoked key is PERMISSION_DENIED', async () => {
      const { key, record } = await createApiKey(api.db, T, 'revoked', SECRET_A);
      await revokeApiKey(api.db, T, record.id);
      assert.equal((await callFailure(api.client.syncRules({ tags: [] }, { apiKey: key }))).code, grpc.status.PERMISSION_DENIED);
    });
  });
}

// Bytes that one database stores and another refuses must be refused alike on every one.
for (const dialect of DIALECTS) {
  describe(`NUL characters in ReportEvents on ${dialect}`, () => {
    let api: SensorApiFixture;
    before(async () => {
      api = await startSensorApiFixture(dialect);
    });
    after(async () => {
      await api?.close();
    });

    test('an event whose id holds a NUL is rejected alone, the others stored with NULs in payload and metadata kept, also when re-sent', async () => {
      const batch = {
        sensorId: `${dialect}-nul`,
        events: [
          { eventId: 'before-nul', payload: jsonToStruct({ text: 'a\u0000b', ['key\u0000']: 1 }), metadata: { ['m\u0000']: 'v\u0000' } },
          { eventId: 'bad\u0000id', payload: jsonToStruct({ text: 'fine' }) },
          { eventId: 'after-nul', payload: jsonToStruct({}) },
        ],
      };
      for (const attempt of ['first', 're-sent']) {
        const { response } = await api.client.reportEvents(batch, { apiKey: api.apiKey });
        assert.deepEqual(
          response.results.map((r: { eventId: string; status: string; errorMessage: string }) => [r.eventId, r.status, r.errorMessage]),
          [
            ['before-nul', 'EVENT_STATUS_ACCEPTED', ''],
            ['bad\u0000id', 'EVENT_STATUS_REJECTED', 'event_id contains a NUL character (U+0000), which cannot be stored'],
            ['after-nul', 'EVENT_STATUS_ACCEPTED', ''],
          ],
          attempt,
        );
        assert.deepEqual([response.acceptedCount, response.rejectedCount], [2, 1], attempt);
      }
      const stored = (await listRecentEvents(api.db, T, 10)).filter((e) => e.sensorId === `${dialect}-nul`);
      assert.deepEqual(stored.map((e) => e.eventId).sort(), ['after-nul', 'before-nul']);
      const kept = stored.find((e) => e.eventId === 'before-nul');
      assert.deepEqual(JSON.parse(kept?.payload ?? ''), { text: 'a\u0000b', ['key\u0000']: 1 });
      assert.deepEqual(kept?.metadata, { ['m\u0000']: 'v\u0000' });
    });

    test('a sensor_id holding a NUL is INVALID_ARGUMENT, saying why', async () => {
      const failure = await callFailure(api.client.reportEvents(
        { sensorId: 'sensor\u0000x', events: [{ eventId: 'nul-sensor', payload: jsonToStruct({}) }] },
        { apiKey: api.apiKey },
      ));
      assert.equal(failure.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(failure.details, 'sensor_id contains a NUL character (U+0000), which cannot be stored');
      assert.equal((await listRecentEvents(api.db, T, 10)).some((e) => e.eventId === 'nul-sensor'), false);
    });
  });
}
