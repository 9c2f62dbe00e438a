import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Rule } from '../../rules/model.js';
import { prepareReportEventsBatch, type PreparedBatch } from './prepare-batch.js';
import { decodeResponse, encodeRequest, equalsOrFail, greaterThan } from './testing.js';

const rules = [greaterThan('slow', 'latency', 100), equalsOrFail('prod-only', 'env', 'prod')];

function prepared(batch: PreparedBatch): Extract<PreparedBatch, { kind: 'prepared' }> {
  assert.equal(batch.kind, 'prepared', batch.kind === 'refused' ? batch.message : '');
  return batch as Extract<PreparedBatch, { kind: 'prepared' }>;
}

describe('prepareReportEventsBatch', () => {
  test('decodes, checks and evaluates: a result per event, the accepted ones with their matches', () => {
    const batch = prepared(prepareReportEventsBatch(encodeRequest([
      { eventId: 'slow-prod', payload: { latency: 250, env: 'prod' }, metadata: { region: 'eu' } },
      { eventId: '', payload: { latency: 1 } },
      { eventId: 'fast-no-env', payload: { latency: 5 } },
      { eventId: 'fast-prod', payload: { latency: 5, env: 'prod' } },
    ], 'sensor-7'), rules, 10));

    assert.equal(batch.sensorId, 'sensor-7');
    const response = decodeResponse(batch.response);
    assert.deepEqual([response.acceptedCount, response.rejectedCount, batch.acceptedCount, batch.rejectedCount], [3, 1, 3, 1]);
    assert.deepEqual(response.results.map((r) => [r.eventId, r.status]), [
      ['slow-prod', 'EVENT_STATUS_ACCEPTED'],
      ['', 'EVENT_STATUS_REJECTED'],
      ['fast-no-env', 'EVENT_STATUS_ACCEPTED'],
      ['fast-prod', 'EVENT_STATUS_ACCEPTED'],
    ]);
    assert.equal(response.results[1]?.errorMessage, 'event_id is required');
    assert.deepEqual(batch.events.map((e) => e.eventId), ['slow-prod', 'fast-no-env', 'fast-prod']);
    assert.deepEqual(JSON.parse(batch.events[0]?.payload ?? ''), { latency: 250, env: 'prod' });
    assert.deepEqual(batch.events[0]?.metadata, { region: 'eu' });
    assert.deepEqual(batch.events.map((e) => e.matches.map((m) => [m.ruleId, m.error !== null])), [
      [['slow', false], ['prod-only', false]],
      [['prod-only', true]],
      [['prod-only', false]],
    ]);
    assert.deepEqual(batch.evaluationThrows, []);
  });

  test('a batch that cannot be taken is refused whole, with the reason', () => {
    const refusal = (bytes: Uint8Array, maxBatchSize = 10) => {
      const batch = prepareReportEventsBatch(bytes, rules, maxBatchSize);
      assert.equal(batch.kind, 'refused');
      return (batch as Extract<PreparedBatch, { kind: 'refused' }>).message;
    };
    assert.equal(refusal(encodeRequest([])), 'the batch has no events');
    assert.equal(refusal(encodeRequest([{ eventId: 'a' }, { eventId: 'b' }, { eventId: 'c' }]), 2), 'the batch has more than 2 events; at most 2 are allowed per call');
    assert.equal(refusal(encodeRequest([{ eventId: 'a' }], 's'.repeat(256))), 'sensor_id is longer than 255 characters');
    assert.equal(refusal(encodeRequest([{ eventId: 'a' }], 'sensor\u0000one')), 'sensor_id contains a NUL character (U+0000), which cannot be stored');
    assert.match(refusal(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])), /^the request is not a valid ReportEventsRequest message \(.+\)$/);
  });

  test('a rule that throws is recorded as an evaluation error on the event and reported, the batch kept', () => {
    const broken = { ...greaterThan('broken', 'latency', 1), orGroups: [{ groupIndex: 0, conditions: [{ op: 'OPERATOR_GT' }] }] } as unknown as Rule;
    const batch = prepared(prepareReportEventsBatch(encodeRequest([{ eventId: 'e1', payload: { latency: 500 } }]), [broken, rules[0] as Rule], 10));
    assert.deepEqual(batch.events[0]?.matches.map((m) => m.ruleId), ['broken', 'slow']);
    assert.match(batch.events[0]?.matches[0]?.error ?? '', /^evaluation failed: /);
    assert.equal(batch.evaluationThrows.length, 1);
    assert.equal(batch.evaluationThrows[0]?.ruleId, 'broken');
  });
});
