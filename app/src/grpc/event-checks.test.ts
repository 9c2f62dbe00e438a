import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { checkDecodedEvent, checkEvent, EVENT_LIMITS, type EventCheck } from './event-checks.js';
import { jsonToStruct, StructDepthError } from './struct.js';

function reason(check: EventCheck): string {
  assert.equal(check.accepted, false);
  return check.accepted ? '' : check.reason;
}

describe('checkEvent', () => {
  test('a well-formed event is accepted with its payload as compact JSON', () => {
    const check = checkEvent(
      { eventId: 'e1', payload: jsonToStruct({ a: 1, b: ['x'] }), metadata: { env: 'prod' }, clientTimestamp: { seconds: 10, nanos: 0 } },
      null,
    );
    assert.ok(check.accepted);
    assert.equal(check.event.payloadText, '{"a":1,"b":["x"]}');
    assert.deepEqual(check.event.metadata, { env: 'prod' });
    assert.equal(check.event.clientTimestamp?.toISOString(), '1970-01-01T00:00:10.000Z');
  });

  test('an event without its own timestamp takes the batch timestamp, and a missing payload is {}', () => {
    const batchTime = new Date('2026-03-01T00:00:00.000Z');
    const check = checkEvent({ eventId: 'e1', payload: null, metadata: {}, clientTimestamp: null }, batchTime);
    assert.ok(check.accepted);
    assert.equal(check.event.clientTimestamp, batchTime);
    assert.equal(check.event.payloadText, '{}');
  });

  test('an empty event_id is rejected', () => {
    assert.match(reason(checkEvent({ eventId: '' }, null)), /event_id is required/);
  });

  test('an event_id over 255 characters is rejected', () => {
    assert.match(reason(checkEvent({ eventId: 'x'.repeat(256) }, null)), /event_id is longer than 255/);
    assert.ok(checkEvent({ eventId: 'é'.repeat(255) }, null).accepted);
  });

  test('metadata over the pair, key or value limits is rejected', () => {
    const tooMany = Object.fromEntries(Array.from({ length: EVENT_LIMITS.metadataPairs + 1 }, (_, i) => [`k${i}`, 'v']));
    assert.match(reason(checkEvent({ eventId: 'e', metadata: tooMany }, null)), /65 pairs; at most 64/);
    const atLimit = Object.fromEntries(Array.from({ length: EVENT_LIMITS.metadataPairs }, (_, i) => [`k${i}`, 'v']));
    assert.ok(checkEvent({ eventId: 'e', metadata: atLimit }, null).accepted);
    assert.match(reason(checkEvent({ eventId: 'e', metadata: { ['k'.repeat(129)]: 'v' } }, null)), /key .* longer than 128/);
    assert.ok(checkEvent({ eventId: 'e', metadata: { ['k'.repeat(128)]: 'v'.repeat(1024) } }, null).accepted);
    assert.match(reason(checkEvent({ eventId: 'e', metadata: { k: 'v'.repeat(1025) } }, null)), /value of "k" is longer than 1024/);
  });

  test('a payload over 1 MiB of JSON is rejected', () => {
    const big = jsonToStruct({ blob: 'x'.repeat(EVENT_LIMITS.payloadBytes) });
    assert.match(reason(checkEvent({ eventId: 'e', payload: big }, null)), /payload is \d+ bytes as JSON; at most 1048576/);
  });

  test('an out-of-range client_timestamp is rejected', () => {
    assert.match(reason(checkEvent({ eventId: 'e', clientTimestamp: { seconds: 0, nanos: 2_000_000_000 } }, null)), /client_timestamp/);
  });

  test('an event whose payload could not be decoded is rejected with the reason, after the other checks', () => {
    const tooDeep = new StructDepthError('payload nests deeper than allowed');
    const event = { eventId: 'deep', payload: tooDeep, metadata: {}, clientTimestamp: null };
    assert.equal(reason(checkDecodedEvent(event, null)), 'payload nests deeper than allowed');
    assert.match(reason(checkDecodedEvent({ ...event, eventId: '' }, null)), /event_id is required/);
  });

  test('a decoded event is accepted with its payload, metadata and the batch timestamp standing in for its own', () => {
    const batchTime = new Date('2026-03-01T00:00:00.000Z');
    const check = checkDecodedEvent({ eventId: 'e', payload: { a: [1, null] }, metadata: { k: 'v' }, clientTimestamp: null }, batchTime);
    assert.ok(check.accepted);
    assert.deepEqual(check.event, { eventId: 'e', payload: { a: [1, null] }, payloadText: '{"a":[1,null]}', metadata: { k: 'v' }, clientTimestamp: batchTime });
  });
});
