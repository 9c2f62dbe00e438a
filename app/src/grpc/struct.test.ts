import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { loadSensorApiDefinition } from './proto.js';
import { jsonToStruct, MAX_STRUCT_DEPTH, structToJson, StructDepthError, valueToJson, type WireStruct } from './struct.js';

const sample = {
  text: 'hello',
  count: 42.5,
  zero: 0,
  flag: false,
  nothing: null,
  list: [1, 'two', null, true, { nested: [] }],
  object: { inner: { deeper: 'x' }, empty: {} },
};

describe('google.protobuf.Struct <-> JSON', () => {
  test('JSON survives a round trip through the Struct wire encoding', () => {
    const { service } = loadSensorApiDefinition();
    const method = service.ReportEvents as unknown as {
      requestSerialize(value: unknown): Buffer;
      requestDeserialize(bytes: Buffer): { events: { payload: WireStruct }[] };
    };
    const bytes = method.requestSerialize({ events: [{ eventId: 'e1', payload: jsonToStruct(sample) }] });
    const decoded = method.requestDeserialize(bytes);
    assert.deepEqual(structToJson(decoded.events[0]?.payload), sample);
  });

  test('a field named __proto__ stays an ordinary field', () => {
    const json = structToJson({ fields: JSON.parse('{"__proto__": {"kind": "stringValue", "stringValue": "x"}}') });
    assert.equal(Object.getPrototypeOf(json), Object.prototype);
    assert.equal(JSON.stringify(json), '{"__proto__":"x"}');
  });

  test('an unset Struct reads as an empty object and an unset Value as null', () => {
    assert.deepEqual(structToJson(null), {});
    assert.deepEqual(structToJson({}), {});
    assert.equal(valueToJson({}), null);
    assert.equal(valueToJson(undefined), null);
  });

  test('a Value without the kind discriminator is read by the member that is set', () => {
    assert.equal(valueToJson({ stringValue: 'a' }), 'a');
    assert.deepEqual(valueToJson({ listValue: { values: [{ numberValue: 3 }] } }), [3]);
  });

  test('non-finite numbers read as null, since JSON cannot hold them', () => {
    assert.equal(valueToJson({ kind: 'numberValue', numberValue: Number.NaN }), null);
    assert.equal(valueToJson({ kind: 'numberValue', numberValue: Number.POSITIVE_INFINITY }), null);
  });

  test('a payload nested deeper than the limit is refused, not recursed into', () => {
    let deep: WireStruct = { fields: {} };
    for (let i = 0; i < MAX_STRUCT_DEPTH + 5; i += 1) deep = { fields: { a: { structValue: deep } } };
    assert.throws(() => structToJson(deep), StructDepthError);
    let shallow: WireStruct = { fields: {} };
    for (let i = 0; i < 10; i += 1) shallow = { fields: { a: { structValue: shallow } } };
    assert.doesNotThrow(() => structToJson(shallow));
  });

  test('values JSON cannot hold are refused when building a Struct', () => {
    assert.throws(() => jsonToStruct({ bad: Number.NaN }), TypeError);
    assert.throws(() => jsonToStruct({ bad: () => 1 }), TypeError);
    assert.deepEqual(jsonToStruct({ skipped: undefined }), { fields: {} });
  });
});
