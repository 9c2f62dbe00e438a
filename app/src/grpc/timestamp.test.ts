import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { isoToTimestamp, timestampToDate } from './timestamp.js';

describe('google.protobuf.Timestamp conversions', () => {
  test('an ISO time becomes seconds and nanos and back', () => {
    const wire = isoToTimestamp('2026-01-02T03:04:05.678Z');
    assert.deepEqual(wire, { seconds: Date.UTC(2026, 0, 2, 3, 4, 5) / 1000, nanos: 678_000_000 });
    assert.equal(timestampToDate(wire)?.toISOString(), '2026-01-02T03:04:05.678Z');
  });

  test('times before 1970 keep non-negative nanos', () => {
    assert.deepEqual(isoToTimestamp('1969-12-31T23:59:59.500Z'), { seconds: -1, nanos: 500_000_000 });
  });

  test('an unset timestamp is null and an out-of-range one undefined', () => {
    assert.equal(timestampToDate(null), null);
    assert.equal(timestampToDate({ seconds: 253_402_300_800, nanos: 0 }), undefined);
    assert.equal(timestampToDate({ seconds: 0, nanos: 1_000_000_000 }), undefined);
    assert.equal(timestampToDate({ seconds: 0, nanos: -1 }), undefined);
  });

  test('a malformed ISO string is refused', () => {
    assert.throws(() => isoToTimestamp('yesterday'), TypeError);
  });
});
