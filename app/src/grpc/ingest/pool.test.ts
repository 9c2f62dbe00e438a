import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { createLogger } from '../../log/logger.js';
import { startBatchPreparer, type BatchPreparer, type BatchPreparerOptions } from './pool.js';
import type { PreparedBatch } from './prepare-batch.js';
import { encodeRequest, equalsOrFail, greaterThan, type TestEvent } from './testing.js';

class Lines extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.lines.push(chunk.toString('utf8'));
    done();
  }
}

const started: BatchPreparer[] = [];
after(async () => {
  await Promise.all(started.map((pool) => pool.close()));
});

async function pool(options: Partial<BatchPreparerOptions> & { workers: number }, logs = new Lines()): Promise<BatchPreparer> {
  const preparer = await startBatchPreparer({
    maxBatchSize: 100,
    maxMessageBytes: 4 * 1024 * 1024,
    logger: createLogger({ level: 'debug', pretty: false }, logs),
    ...options,
  });
  started.push(preparer);
  return preparer;
}

function matchedRuleIds(batch: PreparedBatch): string[][] {
  assert.equal(batch.kind, 'prepared');
  return batch.kind === 'prepared' ? batch.events.map((event) => event.matches.map((match) => match.ruleId)) : [];
}

const EVENTS: TestEvent[] = [
  { eventId: 'a', payload: { latency: 500, env: 'prod', nested: { list: [1, 'two', null, true] } }, metadata: { region: 'eu' } },
  { eventId: '', payload: {} },
  { eventId: 'b', payload: { latency: 3 }, metadata: { ['__proto__']: 'polluted?', plain: 'x' } },
];
const SLOW = [greaterThan('slow', 'latency', 100)];
const RULES = [...SLOW, equalsOrFail('prod-only', 'env', 'prod')];

describe('ingestion workers', () => {
  test('a worker prepares exactly what the main thread prepares', async () => {
    const [inline, threaded] = await Promise.all([pool({ workers: 0 }), pool({ workers: 1 })]);
    assert.equal(threaded.running(), 1);
    const bytes = encodeRequest(EVENTS, 'sensor-x');
    const onWorker = await threaded.prepare(bytes, 'tenant', RULES);
    assert.deepEqual(onWorker, await inline.prepare(bytes, 'tenant', RULES));
    assert.deepEqual(matchedRuleIds(onWorker), [['slow', 'prod-only'], ['prod-only']]);
    // A metadata key named __proto__ stays a plain field after crossing threads.
    const metadata = onWorker.kind === 'prepared' ? onWorker.events[1]?.metadata : undefined;
    assert.equal(Object.getPrototypeOf(metadata), Object.prototype);
    assert.deepEqual(Object.entries(metadata ?? {}), [['__proto__', 'polluted?'], ['plain', 'x']]);
  });

  test('each tenant is evaluated with its own current rules, as they change', async () => {
    const preparer = await pool({ workers: 2 });
    const bytes = encodeRequest([{ eventId: 'e', payload: { latency: 50, env: 'prod' } }]);
    const tenantA = [greaterThan('over-10', 'latency', 10)];
    const tenantB = [greaterThan('over-100', 'latency', 100), equalsOrFail('prod', 'env', 'prod')];
    const seen = await Promise.all(
      Array.from({ length: 8 }, (_, i) => preparer.prepare(bytes, i % 2 ? 'b' : 'a', i % 2 ? tenantB : tenantA)),
    );
    assert.deepEqual(seen.map(matchedRuleIds), Array.from({ length: 8 }, (_, i) => (i % 2 ? [['prod']] : [['over-10']])));
    const tenantAEdited = [greaterThan('over-60', 'latency', 60)];
    for (let i = 0; i < 4; i++) assert.deepEqual(matchedRuleIds(await preparer.prepare(bytes, 'a', tenantAEdited)), [[]]);
    assert.deepEqual(matchedRuleIds(await preparer.prepare(bytes, 'a', tenantA)), [['over-10']]);
    assert.deepEqual(matchedRuleIds(await preparer.prepare(bytes, 'b', tenantB)), [['prod']]);
  });

  test('a batch that exhausts a worker\'s heap fails alone: the batches queued behind it are prepared, and a new worker takes over', async () => {
    const logs = new Lines();
    const preparer = await pool({ workers: 1, workerHeapLimitMb: 16 }, logs);
    const huge: Record<string, unknown> = {};
    for (let i = 0; i < 200_000; i++) huge[`k${i}`] = { v: i };
    const small = encodeRequest([{ eventId: 'small', payload: { latency: 500 } }]);
    const [hugeOutcome, ...queued] = await Promise.allSettled([
      preparer.prepare(encodeRequest([{ eventId: 'huge', payload: huge }]), 't', SLOW),
      ...Array.from({ length: 5 }, () => preparer.prepare(small, 't', SLOW)),
    ]);
    assert.equal(hugeOutcome.status, 'rejected');
    assert.match(String((hugeOutcome as PromiseRejectedResult).reason), /ingestion worker handling this call (crashed|exited)/);
    assert.deepEqual(queued.map((outcome) => (outcome.status === 'fulfilled' ? matchedRuleIds(outcome.value) : String(outcome.reason))), Array(5).fill([['slow']]));
    // The replacement worker prepares what comes next.
    for (let waited = 0; preparer.running() < 1 && waited < 10_000; waited += 50) await sleep(50);
    assert.equal(preparer.running(), 1);
    assert.deepEqual(matchedRuleIds(await preparer.prepare(small, 't', SLOW)), [['slow']]);
    assert.match(logs.lines.join(''), /ingestion worker stopped; starting a new one/);
  });

  test('after close, batches are refused and no worker is left running', async () => {
    const preparer = await pool({ workers: 2 });
    await preparer.close();
    assert.equal(preparer.running(), 0);
    await assert.rejects(preparer.prepare(encodeRequest([{ eventId: 'late' }]), 't', RULES), /ingestion workers are stopped/);
  });
});
