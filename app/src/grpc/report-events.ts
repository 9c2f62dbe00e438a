import { status, type ServerUnaryCall } from '@grpc/grpc-js';
import type { EventStore } from '../db/event-store.js';
import type { Database } from '../db/types.js';
import type { Metrics } from '../metrics/registry.js';
import type { ActiveRulesCache } from './active-rules-cache.js';
import { authenticateSensor, type SensorAuthDeps } from './auth.js';
import { CallError } from './call-error.js';
import { orDatabaseFailure } from './database-failure.js';
import type { BatchPreparer } from './ingest/pool.js';
import type { UnaryReply } from './unary-handler.js';

export type { EventResult, EventStatus, ReportEventsResponse } from './ingest/prepare-batch.js';

export interface ReportEventsDeps extends SensorAuthDeps {
  db: Database;
  metrics: Metrics;
  activeRules: ActiveRulesCache;
  batches: BatchPreparer;
  events: EventStore;
}

/**
 * ReportEvents: each event is accepted or rejected on its own (with a reason); accepted ones
 * are stored once per (tenant, event_id) — a re-sent event is accepted again but not stored
 * twice — together with the rules they matched.
 *
 * The request arrives as bytes and the response leaves as bytes: the BatchPreparer (on an
 * ingestion worker when there are any) decodes, checks and evaluates the batch and encodes
 * the response, only after the key is verified.
 *
 * Matching uses every active rule of the tenant, regardless of scope tags: the request does
 * not carry the sensor's tags, so the server cannot know which scoped rules the sensor holds,
 * and recording a match of a rule the sensor did not apply is better than missing one.
 *
 * Storing is all-or-nothing: when the database fails the call fails (UNAVAILABLE or
 * INTERNAL) and the sensor re-sends the batch, which idempotency makes safe. Batches that
 * arrive while the database is busy writing are committed together (see EventWriter), on a
 * thread of their own when the database is a SQLite file (see startEventStore).
 */
export async function reportEvents(
  call: ServerUnaryCall<Buffer, Buffer>,
  deps: ReportEventsDeps,
): Promise<UnaryReply<Buffer>> {
  const principal = await authenticateSensor(call.metadata, call.getPeer(), deps);
  const rules = await orDatabaseFailure(deps, 'ReportEvents could not read the active rules', () =>
    deps.activeRules.rules(principal.tenantId));
  const batch = await deps.batches.prepare(call.request, principal.tenantId, rules);
  if (batch.kind === 'refused') throw new CallError(status.INVALID_ARGUMENT, batch.message);
  for (const thrown of batch.evaluationThrows) {
    deps.logger.error({ err: { message: thrown.message, stack: thrown.stack }, ruleId: thrown.ruleId }, 'rule evaluation threw');
  }

  if (batch.events.length > 0) {
    await orDatabaseFailure(deps, 'ReportEvents could not store the batch', () =>
      deps.events.write(principal.tenantId, {
        sensorId: batch.sensorId,
        apiKeyId: principal.apiKeyId,
        receivedAt: new Date(),
        events: batch.events,
      }));
  }

  deps.metrics.eventsAccepted.inc(batch.acceptedCount);
  deps.metrics.eventsRejected.inc(batch.rejectedCount);
  const { response } = batch;
  return { response: Buffer.from(response.buffer, response.byteOffset, response.byteLength) };
}
