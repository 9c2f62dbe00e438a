import { performance } from 'node:perf_hooks';
import { Metadata } from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type { HmacSecret } from '../src/auth/hmac-secrets.js';
import { insertEvents } from '../src/db/events.js';
import { listRules } from '../src/db/rules.js';
import { DEFAULT_TENANT_ID, type Database } from '../src/db/types.js';
import { API_KEY_METADATA, authenticateSensor } from '../src/grpc/auth.js';
import { checkEvent, type CheckedEvent, type WireEvent } from '../src/grpc/event-checks.js';
import { loadSensorApiDefinition, SENSOR_API_SERVICE } from '../src/grpc/proto.js';
import type { Logger } from '../src/log/logger.js';
import { matchesFor, storedBatch, wireBatch, type EventPool } from './event-batches.js';

/**
 * A rough profile of one ReportEvents batch: each step the server takes, timed on its own,
 * one batch at a time on an otherwise idle event loop. The steps' sum against the measured
 * batch latency shows where ingestion time goes (the rest is gRPC transport, HTTP/2 framing
 * and waiting for the event loop under concurrency).
 */
export interface StageCosts {
  iterations: number;
  /** Mean milliseconds per batch for each step. */
  perBatchMs: {
    clientEncode: number;
    serverDecode: number;
    authenticate: number;
    checkEvents: number;
    loadRules: number;
    evaluate: number;
    insert: number;
  };
}

const WARMUP_ITERATIONS = 5;

type ReportEventsMethod = MethodDefinition<Record<string, unknown>, unknown>;

async function meanMs(iterations: number, step: (iteration: number) => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < WARMUP_ITERATIONS; i++) await step(iterations + i);
  let total = 0;
  for (let i = 0; i < iterations; i++) {
    const begun = performance.now();
    await step(i);
    total += performance.now() - begun;
  }
  return Math.round((total / iterations) * 1000) / 1000;
}

export async function measureStageCosts(options: {
  db: Database;
  pool: EventPool;
  batchSize: number;
  apiKey: string;
  secret: HmacSecret;
  logger: Logger;
  iterations: number;
}): Promise<StageCosts> {
  const { db, pool, batchSize, iterations } = options;
  const { packageDefinition } = loadSensorApiDefinition();
  const method = (packageDefinition[SENSOR_API_SERVICE] as unknown as Record<string, ReportEventsMethod>).ReportEvents as ReportEventsMethod;
  const request = wireBatch(pool, 'stage', 0, batchSize, 'bench-stage');
  const encoded = method.requestSerialize(request);
  const decoded = method.requestDeserialize(encoded) as { events: WireEvent[] };
  const checked = decoded.events.map((event) => checkEvent(event, null)).flatMap((check) => (check.accepted ? [check.event] : []));
  if (checked.length !== batchSize) throw new Error('the stage-cost batch did not pass the event checks');
  const metadata = new Metadata();
  metadata.set(API_KEY_METADATA, options.apiKey);
  const authDeps = { db, secrets: new Map([[options.secret.id, options.secret]]), tenantId: DEFAULT_TENANT_ID, logger: options.logger };
  const rules = await listRules(db, DEFAULT_TENANT_ID, { states: ['RULE_STATE_ACTIVE'] });
  const matches = pool.payloads.map((payload) => matchesFor(rules, payload));
  // The server parses rules afresh for each batch, so its rule compile cache never hits; fresh
  // copies (made before timing) reproduce that.
  const freshRules = Array.from({ length: iterations + WARMUP_ITERATIONS }, () =>
    rules.map((rule) => ({ ...rule, orGroups: structuredClone(rule.orGroups) })),
  );
  const payloads = (checked as CheckedEvent[]).map((event) => event.payload);
  const apiKeyId = (await authenticateSensor(metadata, 'bench', authDeps)).apiKeyId;

  const perBatchMs: StageCosts['perBatchMs'] = {
    clientEncode: await meanMs(iterations, () => method.requestSerialize(request)),
    serverDecode: await meanMs(iterations, () => method.requestDeserialize(encoded)),
    authenticate: await meanMs(iterations, () => authenticateSensor(metadata, 'bench', authDeps)),
    checkEvents: await meanMs(iterations, () => decoded.events.map((event) => checkEvent(event, null))),
    loadRules: await meanMs(iterations, () => listRules(db, DEFAULT_TENANT_ID, { states: ['RULE_STATE_ACTIVE'] })),
    evaluate: await meanMs(iterations, (iteration) => {
      const fresh = freshRules[iteration] ?? rules;
      for (const payload of payloads) matchesFor(fresh, payload);
    }),
    insert: await meanMs(iterations, (iteration) =>
      insertEvents(db, DEFAULT_TENANT_ID, {
        sensorId: 'bench-stage',
        apiKeyId,
        receivedAt: new Date(),
        events: storedBatch(pool, matches, `stage-${iteration}`, 0, batchSize),
      }),
    ),
  };
  return { iterations, perBatchMs };
}
