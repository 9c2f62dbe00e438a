import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs/minimal.js';
import { loadSensorApiDefinition } from './proto.js';
import { decodeSyncRulesRequest, maxSyncRulesRequestBytes, SyncRulesRequestError, type SyncTagLimits } from './sync-rules-request.js';

/** proto-loader's side, as a sensor built from the protos encodes and as the server decoded before. */
const method = loadSensorApiDefinition().service.SyncRules as unknown as {
  requestSerialize(value: unknown): Buffer;
  requestDeserialize(bytes: Buffer): { tags: string[] };
};

const LIMITS: SyncTagLimits = { maxTags: 4, maxTagBytes: 8, maxTotalTagBytes: 20 };
const WIDE: SyncTagLimits = { maxTags: 1000, maxTagBytes: 1000, maxTotalTagBytes: 100_000 };

function refusal(bytes: Uint8Array, limits: SyncTagLimits): string {
  try {
    decodeSyncRulesRequest(bytes, limits);
  } catch (error) {
    assert.ok(error instanceof SyncRulesRequestError, String(error));
    return error.message;
  }
  assert.fail('expected the request to be refused');
}

describe('decodeSyncRulesRequest', () => {
  test('reads what proto-loader reads: order, repeats, empty tags, any Unicode', () => {
    const tags = ['env=prod', '', 'env=prod', 'région=été', '😀', 'a\u0000b', 'x'.repeat(300)];
    const bytes = method.requestSerialize({ tags });
    assert.deepEqual(decodeSyncRulesRequest(bytes, WIDE), method.requestDeserialize(bytes).tags);
    assert.deepEqual(decodeSyncRulesRequest(method.requestSerialize({}), WIDE), []);
  });

  test('skips unknown fields, and a tags field with another wire type as protoc does', () => {
    const bytes = protobuf.Writer.create()
      .uint32((1 << 3) | 2).string('kept')
      .uint32((9 << 3) | 0).uint32(42)
      .uint32((1 << 3) | 0).uint32(7)
      .uint32((5 << 3) | 2).string('unknown')
      .uint32((1 << 3) | 2).string('also kept')
      .finish();
    assert.deepEqual(decodeSyncRulesRequest(bytes, WIDE), ['kept', 'also kept']);
  });

  test('accepts tags up to each limit and refuses one beyond, naming the limit', () => {
    const request = (tags: string[]) => method.requestSerialize({ tags });
    assert.deepEqual(decodeSyncRulesRequest(request(['a', 'b', 'c', 'd']), LIMITS), ['a', 'b', 'c', 'd']);
    assert.match(refusal(request(['a', 'b', 'c', 'd', 'e']), LIMITS), /more than 4 tags; at most 4 are allowed per call \(sensor_api\.sync_max_tags\)/);
    assert.deepEqual(decodeSyncRulesRequest(request(['12345678']), LIMITS), ['12345678']);
    assert.match(refusal(request(['ok', '123456789']), LIMITS), /tag 2 is 9 bytes long; at most 8 bytes are allowed per tag \(sensor_api\.sync_max_tag_bytes\)/);
    assert.match(refusal(request(['ééééé']), LIMITS), /tag 1 is 10 bytes long/, 'bytes, not characters');
    assert.deepEqual(decodeSyncRulesRequest(request(['12345678', '12345678', '1234']), LIMITS).length, 3);
    assert.match(
      refusal(request(['12345678', '12345678', '12345']), LIMITS),
      /add up to more than 20 bytes; at most 20 are allowed per call \(sensor_api\.sync_max_total_tag_bytes\)/,
    );
  });

  test('a request bigger than any within the limits is refused before it is read', () => {
    const maxBytes = maxSyncRulesRequestBytes(LIMITS);
    const unknownField = (bytes: number) => protobuf.Writer.create().uint32((9 << 3) | 2).bytes(new Uint8Array(bytes)).finish();
    const largest = unknownField(maxBytes - 3);
    assert.equal(largest.length, maxBytes);
    assert.deepEqual(decodeSyncRulesRequest(largest, LIMITS), []);
    assert.match(
      refusal(unknownField(maxBytes - 2), LIMITS),
      new RegExp(`the request is ${maxBytes + 1} bytes; within the tag limits \\(sensor_api\\.sync_max_tags, sync_max_total_tag_bytes\\) a SyncRulesRequest takes at most ${maxBytes}$`),
    );
    const fullest = method.requestSerialize({ tags: ['12345678', '12345678', '1234', ''] });
    assert.ok(fullest.length <= maxBytes - 1024, 'the fullest request within the limits, with room to spare for other fields');
  });

  test('malformed bytes are refused as not a SyncRulesRequest', () => {
    const malformed = [
      Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      Buffer.from([0x0a, 0x05, 0x61]),
      Buffer.from([0x0f]),
      Buffer.from([0x0a]),
    ];
    for (const bytes of malformed) assert.match(refusal(bytes, WIDE), /^the request is not a valid SyncRulesRequest message \(/, bytes.toString('hex'));
  });
});
