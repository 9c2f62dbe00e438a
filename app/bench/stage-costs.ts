import { performance } from 'node:perf_hooks';
import { Metadata } from '@grpc/grpc-js';
import type { HmacSecret } from '../src/auth/hmac-secrets.js';
import { insertEvents } from '../src/db/events.js';
import { DEFAULT_TENANT_ID, type Database } from '../src/db/types.js';
import { ActiveRulesCache } from '../src/grpc/active-rules-cache.js';
import { API_KEY_METADATA, authenticateSensor } from '../src/grpc/auth.js';
import { checkDecodedEvent, type CheckedEvent } from '../src/grpc/event-checks.js';
import { decodeReportEventsRequest } from '../src/grpc/report-events-request.js';
import { timestampToDate } from '../src/grpc/timestamp.js';
import type { Logger } from '../src/log/logger.js';
import { encodeRequests } from './encoded-requests.js';
import { matchesFor, storedBatch, type EventPool } from './event-batches.js';
import { reportEventsCodec } from './report-events-codec.js';

/**
 * A rough profile of one ReportEvents batch: each step the server takes (reportEvents in
 * src/grpc/report-events.ts, with the server's own decoder in front), timed on its own, one
 * batch at a time on an otherwise idle event loop, after warm-up. The steps' sum against the
 * measured batch latency shows where ingestion time goes (the rest is gRPC transport, HTTP/2
 * framing and waiting for the event loop under concurrency). With ingestion workers, decode,
 * checkEvents, evaluate and encodeResponse run on a worker thread and the other steps on the
 * main thread. The benchmark sensors' own work per batch is timed the same way.
 */
export interface StageCosts {
  iterations: number;
  /** Mean milliseconds per batch of each server step, in the order the server takes them, and their sum. */
  serverPerBatchMs: {
    /** decodeReportEventsRequest: the request bytes to events with JSON payloads. */
    decode: number;
    /** authenticateSensor: the API key's HMAC and its row. */
    authenticate: number;
    /** checkDecodedEvent on every event (limits, compact JSON text of the payload). */
    checkEvents: number;
    /** ActiveRulesCache.rules when the rules did not change: one query for their ids and versions. */
    activeRules: number;
    /** Every active rule on every payload, with the evaluator's compiled rules reused. */
    evaluate: number;
    /** insertEvents: the events and their matches, with batched UUIDv7 ids. */
    insert: number;
    /** proto-loader encoding the ReportEventsResponse (one result per event), as prepareReportEventsBatch does. */
    encodeResponse: number;
    total: number;
  };
  /** Mean milliseconds per batch of a benchmark sensor's own work in the timed run. */
  clientPerBatchMs: {
    /** Copying the pre-encoded request and stamping its event ids (see encoded-requests.ts). */
    prepareRequest: number;
    /** Reading accepted_count from the ReportEventsResponse, skipping its per-event results. */
    readAcceptedCount: number;
  };
}

const WARMUP_ITERATIONS = 5;
const STAGE_LABEL = 'stage';

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

async function meanMs(iterations: number, step: (iteration: number) => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < WARMUP_ITERATIONS; i++) await step(iterations + i);
  let total = 0;
  for (let i = 0; i < iterations; i++) {
    const begun = performance.now();
    await step(i);
    total += performance.now() - begun;
  }
  return round(total / iterations);
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
  const codec = reportEventsCodec();
  const requests = encodeRequests({ codec, pool, batchSize, labels: [STAGE_LABEL], streams: 1 });
  const encoded = requests.request(STAGE_LABEL, 0, 0);
  const decoded = decodeReportEventsRequest(encoded, batchSize);
  const batchTimestamp = timestampToDate(decoded.clientTimestamp) ?? null;
  const checkAll = (): CheckedEvent[] =>
    decoded.events.flatMap((event) => {
      const check = checkDecodedEvent(event, batchTimestamp);
      return check.accepted ? [check.event] : [];
    });
  const checked = checkAll();
  if (checked.length !== batchSize) throw new Error('the stage-cost batch did not pass the event checks');

  const metadata = new Metadata();
  metadata.set(API_KEY_METADATA, options.apiKey);
  const authDeps = { db, secrets: new Map([[options.secret.id, options.secret]]), tenantId: DEFAULT_TENANT_ID, logger: options.logger };
  const apiKeyId = (await authenticateSensor(metadata, 'bench', authDeps)).apiKeyId;
  // One cache for every call, as the server keeps it, so the same Rule objects (and the
  // evaluator's compiled forms of them) come back each time.
  const activeRules = new ActiveRulesCache(db);
  const rules = await activeRules.rules(DEFAULT_TENANT_ID);
  const matches = pool.payloads.map((payload) => matchesFor(rules, payload));
  const reply = {
    results: checked.map((event) => ({ eventId: event.eventId, status: 'EVENT_STATUS_ACCEPTED', errorMessage: '' })),
    acceptedCount: checked.length,
    rejectedCount: 0,
  };
  const response = codec.encodeResponse(reply);

  const server = {
    decode: await meanMs(iterations, () => decodeReportEventsRequest(encoded, batchSize)),
    authenticate: await meanMs(iterations, () => authenticateSensor(metadata, 'bench', authDeps)),
    checkEvents: await meanMs(iterations, checkAll),
    activeRules: await meanMs(iterations, () => activeRules.rules(DEFAULT_TENANT_ID)),
    evaluate: await meanMs(iterations, () => {
      for (const event of checked) matchesFor(rules, event.payload);
    }),
    insert: await meanMs(iterations, (iteration) =>
      insertEvents(db, DEFAULT_TENANT_ID, {
        sensorId: 'bench-stage',
        apiKeyId,
        receivedAt: new Date(),
        events: storedBatch(pool, matches, STAGE_LABEL, iteration, batchSize),
      }),
    ),
    encodeResponse: await meanMs(iterations, () => codec.encodeResponse(reply)),
  };
  const total = round(Object.values(server).reduce((sum, ms) => sum + ms, 0));
  return {
    iterations,
    serverPerBatchMs: { ...server, total },
    clientPerBatchMs: {
      prepareRequest: await meanMs(iterations, (iteration) => requests.request(STAGE_LABEL, iteration, 0)),
      readAcceptedCount: await meanMs(iterations, () => codec.readAcceptedCount(response)),
    },
  };
}
