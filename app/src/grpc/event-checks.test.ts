import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { checkDecodedEvent, EVENT_LIMITS, type EventCheck } from './event-checks.js';
import type { DecodedEvent } from './report-events-request.js';
import { StructDepthError } from './struct.js';

function reason(check: EventCheck): string {
  assert.equal(check.accepted, false);
  return check.accepted ? '' : check.reason;
}

/** An event as the decoder yields it; unset fields as proto3 reads them absent. */
function event(fields: Partial<DecodedEvent>): DecodedEvent {
  return { eventId: '', payload: {}, metadata: {}, clientTimestamp: null, ...fields };
}

const check = (fields: Partial<DecodedEvent>, batchTimestamp: Date | null = null): EventCheck =>
  checkDecodedEvent(event(fields), batchTimestamp);

describe('checkDecodedEvent', () => {
  test('a well-formed event is accepted with its payload as compact JSON', () => {
    const result = check({ eventId: 'e1', payload: { a: 1, b: ['x'] }, metadata: { env: 'prod' }, clientTimestamp: { seconds: 10, nanos: 0 } });
    assert.ok(result.accepted);
    assert.equal(result.event.payloadText, '{"a":1,"b":["x"]}');
    assert.deepEqual(result.event.metadata, { env: 'prod' });
    assert.equal(result.event.clientTimestamp?.toISOString(), '1970-01-01T00:00:10.000Z');
  });

  test('an event without its own timestamp takes the batch timestamp', () => {
    const batchTime = new Date('2026-03-01T00:00:00.000Z');
    const result = check({ eventId: 'e', payload: { a: [1, null] }, metadata: { k: 'v' } }, batchTime);
    assert.ok(result.accepted);
    assert.deepEqual(result.event, { eventId: 'e', payload: { a: [1, null] }, payloadText: '{"a":[1,null]}', metadata: { k: 'v' }, clientTimestamp: batchTime });
  });

  test('an empty event_id is rejected', () => {
    assert.match(reason(check({ eventId: '' })), /event_id is required/);
  });

  test('an event_id over 255 characters is rejected; characters, not UTF-16 units, count', () => {
    assert.match(reason(check({ eventId: 'x'.repeat(256) })), /event_id is longer than 255/);
    assert.ok(check({ eventId: 'é'.repeat(255) }).accepted);
    assert.ok(check({ eventId: '😀'.repeat(255) }).accepted);
  });

  test('a NUL character is refused in event_id, and kept in metadata and payload, which are stored as JSON', () => {
    assert.equal(reason(check({ eventId: 'bad\u0000id' })), 'event_id contains a NUL character (U+0000), which cannot be stored');
    const result = check({ eventId: 'e', payload: { ['k\u0000']: 'v\u0000' }, metadata: { ['m\u0000']: 'n\u0000' } });
    assert.ok(result.accepted);
    assert.equal(result.event.payloadText, '{"k\\u0000":"v\\u0000"}');
    assert.deepEqual(result.event.metadata, { ['m\u0000']: 'n\u0000' });
  });

  test('metadata over the pair, key or value limits is rejected', () => {
    const tooMany = Object.fromEntries(Array.from({ length: EVENT_LIMITS.metadataPairs + 1 }, (_, i) => [`k${i}`, 'v']));
    assert.match(reason(check({ eventId: 'e', metadata: tooMany })), /65 pairs; at most 64/);
    const atLimit = Object.fromEntries(Array.from({ length: EVENT_LIMITS.metadataPairs }, (_, i) => [`k${i}`, 'v']));
    assert.ok(check({ eventId: 'e', metadata: atLimit }).accepted);
    assert.match(reason(check({ eventId: 'e', metadata: { ['k'.repeat(129)]: 'v' } })), /key .* longer than 128/);
    assert.ok(check({ eventId: 'e', metadata: { ['k'.repeat(128)]: 'v'.repeat(1024) } }).accepted);
    assert.match(reason(check({ eventId: 'e', metadata: { k: 'v'.repeat(1025) } })), /value of "k" is longer than 1024/);
  });

  test('a payload over 1 MiB of JSON is rejected', () => {
    const big = { blob: 'x'.repeat(EVENT_LIMITS.payloadBytes) };
    assert.match(reason(check({ eventId: 'e', payload: big })), /payload is \d+ bytes as JSON; at most 1048576/);
  });

  test('an out-of-range client_timestamp is rejected', () => {
    assert.match(reason(check({ eventId: 'e', clientTimestamp: { seconds: 0, nanos: 2_000_000_000 } })), /client_timestamp/);
  });

  test('an event whose payload could not be decoded is rejected with the reason, after the other checks', () => {
    const tooDeep = new StructDepthError('payload nests deeper than allowed');
    assert.equal(reason(check({ eventId: 'deep', payload: tooDeep })), 'payload nests deeper than allowed');
    assert.match(reason(check({ eventId: '', payload: tooDeep })), /event_id is required/);
  });
});
