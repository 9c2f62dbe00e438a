import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { listRecentEvents } from '../../src/db/events.js';
import { DEFAULT_TENANT_ID } from '../../src/db/types.js';
import { jsonToStruct } from '../../src/grpc/struct.js';
import { callFailure, connectSensorClient, type SensorClient } from '../support/sensor-client.js';
import { startSensorApiFixture, type SensorApiFixture } from './harness.js';

const MAX_BATCH_SIZE = 1000;
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
const MIN_INNOCENT_BATCHES = 20;
const MAX_INNOCENT_BATCHES = 1_000;
/** Generous for a loaded machine; before the fix the refusal took seconds or never came. */
const REFUSAL_WITHIN_MS = 5_000;
const MAX_EVENT_LOOP_LAG_MS = 500;

/** A ReportEventsRequest of nothing but empty events (field 1, length 0): 2 bytes each, ~2 million in 4 MiB. */
function emptyEventsRequest(bytes: number): Buffer {
  const request = Buffer.alloc(bytes);
  for (let offset = 0; offset + 1 < bytes; offset += 2) request[offset] = 0x0a;
  return request;
}

/** The longest a 5 ms timer of this process fired late while watched: how long the event loop was held. */
function watchEventLoopLag(): { stop(): number } {
  const intervalMs = 5;
  let maxLagMs = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxLagMs = Math.max(maxLagMs, now - last - intervalMs);
    last = now;
  }, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      return maxLagMs;
    },
  };
}

for (const ingestWorkers of [1, 0]) {
  describe(`a 4 MiB ReportEvents of ~2 million empty events, ingest_workers = ${ingestWorkers}`, () => {
    let api: SensorApiFixture;
    let attacker: SensorClient;
    before(async () => {
      api = await startSensorApiFixture('sqlite', { ingestWorkers, maxBatchSize: MAX_BATCH_SIZE, maxMessageBytes: MAX_MESSAGE_BYTES });
      attacker = connectSensorClient(api.server.port);
    });
    after(async () => {
      attacker?.close();
      await api?.close();
    });

    test('is INVALID_ARGUMENT at once, while another client\'s one-event batches all succeed', async () => {
      const lag = watchEventLoopLag();
      const started = performance.now();
      let refused = false;
      const refusal = callFailure(
        attacker.reportEventsRaw(emptyEventsRequest(MAX_MESSAGE_BYTES - 64), { apiKey: api.apiKey, deadlineMs: 30_000 }),
      ).then((error) => {
        refused = true;
        return { error, ms: performance.now() - started };
      });
      // One-event batches from another client, every 10 ms until the big request is answered
      // (bounded): before the fix they queued behind it and failed with it.
      const innocent: Promise<PromiseSettledResult<number>>[] = [];
      for (let index = 0; index < MAX_INNOCENT_BATCHES && (!refused || index < MIN_INNOCENT_BATCHES); index++) {
        const eventId = `innocent-${ingestWorkers}-${index}`;
        innocent.push(api.client.reportEvents(
          { sensorId: 'innocent', events: [{ eventId, payload: jsonToStruct({ index }) }] },
          { apiKey: api.apiKey, deadlineMs: 30_000 },
        ).then(
          ({ response }) => ({ status: 'fulfilled', value: response.acceptedCount as number }) as const,
          (reason: unknown) => ({ status: 'rejected', reason }) as const,
        ));
        await sleep(10);
      }
      const outcomes = await Promise.all(innocent);
      const { error, ms } = await refusal;
      const maxLagMs = lag.stop();

      const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [String(outcome.reason)] : []));
      assert.deepEqual(failures, [], `${failures.length} of ${outcomes.length} innocent batches failed`);
      assert.deepEqual(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : 0)), Array(outcomes.length).fill(1));
      const stored = await listRecentEvents(api.db, DEFAULT_TENANT_ID, outcomes.length * 2);
      assert.equal(stored.filter((event) => event.eventId.startsWith(`innocent-${ingestWorkers}-`)).length, outcomes.length);
      if (ingestWorkers === 0) {
        // On the main thread, reading the request must not hold up everything else the server does.
        assert.ok(maxLagMs < MAX_EVENT_LOOP_LAG_MS, `the event loop was held for ${Math.round(maxLagMs)} ms`);
      } else {
        assert.doesNotMatch(api.logs.text(), /ingestion worker (crashed|stopped)/);
      }
      assert.equal(error.code, grpc.status.INVALID_ARGUMENT, error.details);
      assert.equal(error.details, `the batch has more than ${MAX_BATCH_SIZE} events; at most ${MAX_BATCH_SIZE} are allowed per call`);
      assert.ok(ms < REFUSAL_WITHIN_MS, `refused after ${Math.round(ms)} ms`);
    });
  });
}
