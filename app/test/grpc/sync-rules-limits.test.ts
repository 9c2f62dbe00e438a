import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as grpc from '@grpc/grpc-js';
import { createRule } from '../../src/db/rules.js';
import { DEFAULT_TENANT_ID } from '../../src/db/types.js';
import { loadSensorApiDefinition } from '../../src/grpc/proto.js';
import { callFailure, callWithBytes, type WireMessage } from '../support/sensor-client.js';
import { equalsRule } from './fixtures.js';
import { counterValue, startSensorApiFixture, type SensorApiFixture } from './harness.js';

const T = DEFAULT_TENANT_ID;
/** The server's defaults (sensor_api.sync_max_tags, sync_max_tag_bytes, sync_max_total_tag_bytes). */
const MAX_TAGS = 64;
const MAX_TAG_BYTES = 256;
const MAX_TOTAL_TAG_BYTES = 4096;
/** Small, so that the run below fills it many times over. */
const CACHE_MAX_BYTES = 64 * 1024;

const syncRulesMethod = loadSensorApiDefinition().service.SyncRules as unknown as {
  requestSerialize(value: unknown): Buffer;
  responseDeserialize(bytes: Buffer): WireMessage;
};

/** A full garbage collection, so that heapUsed counts only what is still referenced. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let round = 0; round < 3; round++) gc();
}

describe('SyncRules refuses oversized and malformed requests, and its memory stays bounded', () => {
  let api: SensorApiFixture;
  let everywhere: string;
  before(async () => {
    api = await startSensorApiFixture('sqlite', { syncCacheMaxBytes: CACHE_MAX_BYTES });
    everywhere = (await createRule(api.db, T, equalsRule('served to every tag set', 'x', 1))).ruleId;
    await createRule(api.db, T, equalsRule('scoped', 'x', 1, { scopeTags: [{ key: 'env', value: 'prod' }] }));
  });
  after(async () => {
    await api?.close();
  });

  const sync = (tags: string[]) => api.client.syncRules({ tags }, { apiKey: api.apiKey });

  async function refusal(tags: string[]): Promise<grpc.ServiceError> {
    const error = await callFailure(sync(tags));
    assert.equal(error.code, grpc.status.INVALID_ARGUMENT, error.details);
    return error;
  }

  test('more tags than sync_max_tags is INVALID_ARGUMENT naming the limit; as many is served', async () => {
    const tags = Array.from({ length: MAX_TAGS + 1 }, (_, index) => `tag=${index}`);
    const error = await refusal(tags);
    assert.match(error.details, new RegExp(`more than ${MAX_TAGS} tags; at most ${MAX_TAGS} are allowed per call \\(sensor_api\\.sync_max_tags\\)`));
    const served = await sync(tags.slice(0, MAX_TAGS));
    assert.ok(served.response.rules.some((rule: WireMessage) => rule.ruleId === everywhere));
  });

  test('a tag longer than sync_max_tag_bytes (in UTF-8 bytes) is INVALID_ARGUMENT naming the limit', async () => {
    const error = await refusal(['env=prod', `long=${'x'.repeat(MAX_TAG_BYTES)}`]);
    assert.match(error.details, new RegExp(`tag 2 is ${MAX_TAG_BYTES + 5} bytes long; at most ${MAX_TAG_BYTES} bytes are allowed per tag \\(sensor_api\\.sync_max_tag_bytes\\)`));
    const twoByteCharacters = 'é'.repeat(MAX_TAG_BYTES / 2 + 1);
    assert.match((await refusal([twoByteCharacters])).details, new RegExp(`is ${MAX_TAG_BYTES + 2} bytes long`));
    await sync(['x'.repeat(MAX_TAG_BYTES), 'é'.repeat(MAX_TAG_BYTES / 2)]);
    const huge = await refusal([`huge=${'x'.repeat(1024 * 1024)}`]);
    assert.match(huge.details, /^the request is \d+ bytes; within the tag limits \(sensor_api\.sync_max_tags, sync_max_total_tag_bytes\) a SyncRulesRequest takes at most \d+$/);
  });

  test('tags adding up to more than sync_max_total_tag_bytes are INVALID_ARGUMENT naming the limit', async () => {
    const tagsPerLimit = Math.floor(MAX_TOTAL_TAG_BYTES / MAX_TAG_BYTES);
    const tags = Array.from({ length: tagsPerLimit }, (_, index) => `${index}`.padEnd(MAX_TAG_BYTES, '.'));
    await sync(tags);
    const error = await refusal([...tags, 'one more']);
    assert.match(error.details, new RegExp(`add up to more than ${MAX_TOTAL_TAG_BYTES} bytes; at most ${MAX_TOTAL_TAG_BYTES} are allowed per call \\(sensor_api\\.sync_max_total_tag_bytes\\)`));
  });

  test('bytes that are not a SyncRulesRequest are INVALID_ARGUMENT, after the key is checked', async () => {
    const garbage = {
      'a truncated field tag': Buffer.from([0xff, 0xff]),
      'an invalid wire type': Buffer.from([0x0f, 0x01]),
      'a tag running past the end': Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
    };
    for (const [what, bytes] of Object.entries(garbage)) {
      const refused = await callFailure(callWithBytes(api.server.port, 'SyncRules', bytes, { apiKey: api.apiKey }));
      assert.equal(refused.code, grpc.status.INVALID_ARGUMENT, `${what}: ${refused.details}`);
      assert.match(refused.details, /not a valid SyncRulesRequest message/, what);
      const withoutKey = await callFailure(callWithBytes(api.server.port, 'SyncRules', bytes));
      assert.equal(withoutKey.code, grpc.status.UNAUTHENTICATED, `${what} without a key: ${withoutKey.details}`);
    }

    const valid = syncRulesMethod.requestSerialize({ tags: ['env=prod'] });
    const response = syncRulesMethod.responseDeserialize(await callWithBytes(api.server.port, 'SyncRules', valid, { apiKey: api.apiKey }));
    assert.equal(response.rules.length, 2, 'a valid request sent the same way is served');
  });

  test('many distinct large tag sets keep the tag-set cache under its byte bound and the heap from growing', async () => {
    // Control characters are what made the old cache key (escaped JSON) six times their size.
    const tagSet = (call: number) =>
      Array.from({ length: Math.floor(MAX_TOTAL_TAG_BYTES / MAX_TAG_BYTES) }, (_, index) => `${call}/${index}=`.padEnd(MAX_TAG_BYTES, '\u0001'));
    const runSyncs = async (from: number, calls: number) => {
      const concurrent = 8;
      for (let call = from; call < from + calls; call += concurrent) {
        await Promise.all(Array.from({ length: concurrent }, (_, offset) => sync(tagSet(call + offset))));
      }
    };
    await runSyncs(0, 40);
    collectGarbage();
    const heapBefore = process.memoryUsage().heapUsed;

    // Fewer than the 1,000 tag sets the old cache kept before it emptied itself.
    const calls = 904;
    await runSyncs(1_000_000, calls);
    const cacheBytes = await counterValue(api.metrics, 'trapperkeeper_rule_sync_cache_bytes');
    const tagSets = await counterValue(api.metrics, 'trapperkeeper_rule_sync_cache_tag_sets');
    assert.ok(cacheBytes > 0 && cacheBytes <= CACHE_MAX_BYTES, `the cache holds ${cacheBytes} bytes; its bound is ${CACHE_MAX_BYTES}`);
    assert.ok(tagSets > 0 && tagSets < calls, `the cache remembers ${tagSets} of the ${calls} tag sets`);

    collectGarbage();
    const growth = process.memoryUsage().heapUsed - heapBefore;
    // Each tag set is about 4 KB on the wire; keeping them (as the old cache did, six times over)
    // would add more than 20 MB. What the server may keep is the cache's 64 KiB and noise.
    assert.ok(growth < 8 * 1024 * 1024, `the heap grew by ${(growth / 1024 / 1024).toFixed(1)} MB over ${calls} syncs`);
  });
});
