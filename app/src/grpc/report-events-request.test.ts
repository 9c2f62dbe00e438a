import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs/minimal.js';
import { loadSensorApiDefinition } from './proto.js';
import { decodeReportEventsRequest, TooManyEventsError, type DecodedReportEventsRequest } from './report-events-request.js';
import { jsonToStruct, structToJson, StructDepthError, type JsonObject, type JsonValue, type WireStruct } from './struct.js';
import { MAX_MESSAGE_DEPTH } from './wire-reader.js';

/** A batch limit no test request reaches, except where a test says otherwise. */
const MAX_EVENTS = 1000;

/** proto-loader's side, as a sensor built from the protos encodes and as the server decoded before. */
const method = loadSensorApiDefinition().service.ReportEvents as unknown as {
  requestSerialize(value: unknown): Buffer;
  requestDeserialize(bytes: Buffer): {
    events: { eventId: string; payload: WireStruct | null; metadata: Record<string, string>; clientTimestamp: unknown }[];
    sensorId: string;
    clientTimestamp: unknown;
  };
};

/** What proto-loader plus structToJson made of the same bytes, in the decoder's shape. */
function decodeWithProtoLoader(bytes: Buffer): DecodedReportEventsRequest {
  const decoded = method.requestDeserialize(bytes);
  return {
    sensorId: decoded.sensorId,
    clientTimestamp: (decoded.clientTimestamp ?? null) as DecodedReportEventsRequest['clientTimestamp'],
    events: decoded.events.map((event) => ({
      eventId: event.eventId,
      payload: structToJson(event.payload),
      metadata: { ...event.metadata },
      clientTimestamp: (event.clientTimestamp ?? null) as DecodedReportEventsRequest['clientTimestamp'],
    })),
  };
}

/** A deterministic pseudo-random JSON object (mulberry32), covering every kind of value. */
function randomPayload(seed: number): JsonObject {
  let state = seed;
  const random = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const value = (depth: number): JsonValue => {
    const kind = Math.floor(random() * (depth > 3 ? 4 : 6));
    if (kind === 0) return null;
    if (kind === 1) return random() < 0.5;
    if (kind === 2) return random() < 0.5 ? Math.floor(random() * 2000) - 1000 : random() * 1e9;
    if (kind === 3) return ['', 'plain', 'ünïcödé', '🦊 emoji', 'a"quote\\'][Math.floor(random() * 5)] as string;
    if (kind === 4) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
    return object(depth + 1);
  };
  const object = (depth: number): JsonObject =>
    Object.fromEntries(Array.from({ length: Math.floor(random() * 5) }, (_, i) => [`k${i}_${Math.floor(random() * 100)}`, value(depth)]));
  return object(0);
}

/** Length-delimited field `number` holding what `write` writes. */
function embedded(writer: protobuf.Writer, number: number, write: (inner: protobuf.Writer) => void): protobuf.Writer {
  writer.uint32((number << 3) | 2).fork();
  write(writer);
  return writer.ldelim();
}

/** The bytes of a Struct nesting `levels` Structs inside it, {"a": {"a": ... {}}}, or {"a": ... {"a": true}} with a leaf. */
function nestedStruct(writer: protobuf.Writer, levels: number, leaf = false): void {
  if (levels === 0) {
    if (leaf) embedded(writer, 1, (entry) => embedded(entry.uint32((1 << 3) | 2).string('a'), 2, (value) => value.uint32(4 << 3).bool(true)));
    return;
  }
  embedded(writer, 1, (entry) => {
    entry.uint32((1 << 3) | 2).string('a');
    embedded(entry, 2, (value) => embedded(value, 5, (struct) => nestedStruct(struct, levels - 1, leaf)));
  });
}

function requestWithPayloads(...payloads: ((writer: protobuf.Writer) => void)[]): Buffer {
  const writer = protobuf.Writer.create();
  payloads.forEach((payload, index) => {
    embedded(writer, 1, (event) => {
      event.uint32((1 << 3) | 2).string(`e${index}`);
      embedded(event, 2, payload);
    });
  });
  return Buffer.from(writer.finish());
}

describe('decodeReportEventsRequest', () => {
  test('reads what proto-loader reads, payloads as plain JSON', () => {
    const request = {
      sensorId: 'sensor-1',
      clientTimestamp: { seconds: 1_700_000_000, nanos: 123_000_000 },
      events: [
        {
          eventId: 'full',
          payload: jsonToStruct({ text: 'x', n: 1.5, zero: 0, flag: false, nothing: null, list: [1, 'two', [], { deep: {} }], obj: { inner: 'y' } }),
          metadata: { env: 'prod', empty: '' },
          clientTimestamp: { seconds: -62_135_596_800, nanos: 0 },
        },
        { eventId: 'bare' },
        ...Array.from({ length: 50 }, (_, i) => ({ eventId: `random-${i}`, payload: jsonToStruct(randomPayload(i + 1)) })),
      ],
    };
    const bytes = method.requestSerialize(request);
    const decoded = decodeReportEventsRequest(bytes, MAX_EVENTS);
    assert.deepEqual(decoded, decodeWithProtoLoader(bytes));
    assert.equal(Object.getPrototypeOf(decoded.events[0]?.payload), Object.prototype);
  });

  test('unset fields read as proto3 defaults: empty strings, an empty payload and metadata, no timestamp', () => {
    const decoded = decodeReportEventsRequest(method.requestSerialize({ events: [{}, { clientTimestamp: {} }] }), MAX_EVENTS);
    assert.deepEqual(decoded, {
      sensorId: '',
      clientTimestamp: null,
      events: [
        { eventId: '', payload: {}, metadata: {}, clientTimestamp: null },
        { eventId: '', payload: {}, metadata: {}, clientTimestamp: { seconds: 0, nanos: 0 } },
      ],
    });
    assert.deepEqual(decodeReportEventsRequest(Buffer.alloc(0), MAX_EVENTS), { sensorId: '', clientTimestamp: null, events: [] });
  });

  test('a "__proto__" key in a payload or in metadata is an ordinary field', () => {
    const bytes = method.requestSerialize({
      events: [{ eventId: 'p', payload: jsonToStruct(JSON.parse('{"__proto__": {"polluted": true}, "a": 1}')), metadata: JSON.parse('{"__proto__": "m"}') }],
    });
    const event = decodeReportEventsRequest(bytes, MAX_EVENTS).events[0];
    assert.ok(event && !(event.payload instanceof StructDepthError));
    assert.equal(JSON.stringify(event.payload), '{"__proto__":{"polluted":true},"a":1}');
    assert.equal(Object.getPrototypeOf(event.payload), Object.prototype);
    assert.equal(JSON.stringify(event.metadata), '{"__proto__":"m"}');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('non-finite numbers read as null, and of several members of a Value the last one on the wire wins', () => {
    const bytes = requestWithPayloads((struct) => {
      embedded(struct, 1, (entry) => {
        entry.uint32((1 << 3) | 2).string('inf');
        embedded(entry, 2, (value) => value.uint32((2 << 3) | 1).double(Number.POSITIVE_INFINITY));
      });
      embedded(struct, 1, (entry) => {
        entry.uint32((1 << 3) | 2).string('both');
        embedded(entry, 2, (value) => value.uint32((3 << 3) | 2).string('first').uint32((2 << 3) | 1).double(7));
      });
    });
    assert.deepEqual(decodeReportEventsRequest(bytes, MAX_EVENTS).events[0]?.payload, { inf: null, both: 7 });
  });

  test('unknown fields, and known field numbers with an unexpected wire type, are skipped', () => {
    const writer = protobuf.Writer.create();
    writer.uint32((9 << 3) | 0).uint32(42); // unknown varint field
    writer.uint32((2 << 3) | 0).uint32(5); // sensor_id as a varint
    writer.uint32((2 << 3) | 2).string('kept');
    embedded(writer, 1, (event) => {
      event.uint32((1 << 3) | 2).string('e');
      event.uint32((15 << 3) | 2).string('unknown');
    });
    const decoded = decodeReportEventsRequest(Buffer.from(writer.finish()), MAX_EVENTS);
    assert.equal(decoded.sensorId, 'kept');
    assert.equal(decoded.events[0]?.eventId, 'e');
  });

  test('malformed bytes throw (the call fails, as it did with proto-loader)', () => {
    assert.throws(() => decodeReportEventsRequest(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), MAX_EVENTS), RangeError);
    const truncated = method.requestSerialize({ events: [{ eventId: 'e', payload: jsonToStruct({ a: 'text' }) }] });
    assert.throws(() => decodeReportEventsRequest(truncated.subarray(0, truncated.length - 3), MAX_EVENTS), RangeError);
  });

  test('invalid UTF-8, encoded surrogates included, reads as U+FFFD: no lone surrogate leaves the decoder', () => {
    const surrogate = Buffer.from([0xed, 0xa0, 0x80]); // U+D800 encoded as if it were a character
    const writer = protobuf.Writer.create();
    writer.uint32((2 << 3) | 2).bytes(Buffer.concat([Buffer.from('s'), surrogate]));
    embedded(writer, 1, (event) => {
      event.uint32((1 << 3) | 2).bytes(Buffer.concat([Buffer.from('e'), surrogate, Buffer.from([0xff])]));
      embedded(event, 3, (entry) => entry.uint32((1 << 3) | 2).bytes(surrogate).uint32((2 << 3) | 2).bytes(Buffer.from([0xc3])));
    });
    const decoded = decodeReportEventsRequest(Buffer.from(writer.finish()), MAX_EVENTS);
    assert.equal(decoded.sensorId, 's\ufffd\ufffd\ufffd');
    assert.equal(decoded.events[0]?.eventId, 'e\ufffd\ufffd\ufffd\ufffd');
    assert.deepEqual(decoded.events[0]?.metadata, { '\ufffd\ufffd\ufffd': '\ufffd' });
  });

  test('a request with more events than allowed stops being read at the first one too many', () => {
    const three = method.requestSerialize({ events: [{ eventId: 'a' }, { eventId: 'b' }, { eventId: 'c' }] });
    assert.equal(decodeReportEventsRequest(three, 3).events.length, 3);
    assert.throws(() => decodeReportEventsRequest(three, 2), (error: unknown) => error instanceof TooManyEventsError && error.maxEvents === 2);
    // What follows the first event too many is never read: here it would not decode.
    const thenGarbage = Buffer.concat([three, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])]);
    assert.throws(() => decodeReportEventsRequest(thenGarbage, 3), TooManyEventsError);
    assert.throws(() => decodeReportEventsRequest(thenGarbage, 4), RangeError);
  });

  test('a payload nested deeper than protobuf decodes is refused for its own event only, at the depth proto-loader refuses', () => {
    // The request is level 0, the event 1, the payload 2, and each nested object adds a Value and a Struct.
    const deepestAccepted = (MAX_MESSAGE_DEPTH - 2) / 2;
    const accepted = requestWithPayloads((struct) => nestedStruct(struct, deepestAccepted));
    assert.doesNotThrow(() => method.requestDeserialize(accepted));
    assert.deepEqual(decodeReportEventsRequest(accepted, MAX_EVENTS), decodeWithProtoLoader(accepted));

    for (const tooDeepPayload of [
      (struct: protobuf.Writer) => nestedStruct(struct, deepestAccepted + 1),
      (struct: protobuf.Writer) => nestedStruct(struct, deepestAccepted, true),
    ]) {
      const refused = requestWithPayloads(tooDeepPayload, (struct) => nestedStruct(struct, 1));
      assert.throws(() => method.requestDeserialize(refused), /nesting depth/);
      const [tooDeep, fine] = decodeReportEventsRequest(refused, MAX_EVENTS).events;
      assert.ok(tooDeep?.payload instanceof StructDepthError);
      assert.match(tooDeep.payload.message, /payload nests deeper than/);
      assert.equal(fine?.eventId, 'e1');
      assert.deepEqual(fine?.payload, { a: {} });
    }
  });
});
