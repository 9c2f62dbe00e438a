import { status, type ServerUnaryCall } from '@grpc/grpc-js';
import { insertEvents, type NewEvent, type RuleMatch } from '../db/events.js';
import type { Database } from '../db/types.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import { evaluateRule } from '../rules/evaluate.js';
import type { Rule } from '../rules/model.js';
import { authenticateSensor, type SensorAuthDeps } from './auth.js';
import { CallError } from './call-error.js';
import { databaseFailure } from './database-failure.js';
import type { ActiveRulesCache } from './active-rules-cache.js';
import { checkDecodedEvent, type CheckedEvent } from './event-checks.js';
import type { DecodedReportEventsRequest } from './report-events-request.js';
import { timestampToDate } from './timestamp.js';
import type { UnaryReply } from './unary-handler.js';

export type EventStatus = 'EVENT_STATUS_ACCEPTED' | 'EVENT_STATUS_REJECTED' | 'EVENT_STATUS_ERROR';

export interface EventResult {
  eventId: string;
  status: EventStatus;
  errorMessage: string;
}

export interface ReportEventsResponse {
  results: EventResult[];
  acceptedCount: number;
  rejectedCount: number;
}

export interface ReportEventsDeps extends SensorAuthDeps {
  db: Database;
  metrics: Metrics;
  maxBatchSize: number;
  activeRules: ActiveRulesCache;
}

/** The column's limit. */
const SENSOR_ID_MAX_CHARS = 255;

/**
 * Which rules an event matched, or failed to evaluate on (FAIL policy: the error is kept).
 * A rule that throws outright is recorded as an evaluation error too: one bad rule must not
 * lose the batch.
 */
function matchRules(rules: readonly Rule[], payload: unknown, logger: Logger): RuleMatch[] {
  const matches: RuleMatch[] = [];
  for (const rule of rules) {
    let error: string | null;
    let matched: boolean;
    try {
      const evaluation = evaluateRule(rule, payload, { trace: false });
      matched = evaluation.matched;
      error = evaluation.error;
    } catch (thrown) {
      logger.error({ err: thrown, ruleId: rule.ruleId }, 'rule evaluation threw');
      matched = false;
      error = `evaluation failed: ${(thrown as Error).message}`;
    }
    if (matched || error !== null) {
      matches.push({ ruleId: rule.ruleId, ruleName: rule.name, action: rule.action, error });
    }
  }
  return matches;
}

/**
 * ReportEvents: each event is accepted or rejected on its own (with a reason); accepted ones
 * are stored once per (tenant, event_id) — a re-sent event is accepted again but not stored
 * twice — together with the rules they matched.
 *
 * Matching uses every active rule of the tenant, regardless of scope tags: the request does
 * not carry the sensor's tags, so the server cannot know which scoped rules the sensor holds,
 * and recording a match of a rule the sensor did not apply is better than missing one.
 *
 * Storing is all-or-nothing: when the database fails the call fails (UNAVAILABLE or
 * INTERNAL) and the sensor re-sends the batch, which idempotency makes safe.
 */
export async function reportEvents(
  call: ServerUnaryCall<DecodedReportEventsRequest, ReportEventsResponse>,
  deps: ReportEventsDeps,
): Promise<UnaryReply<ReportEventsResponse>> {
  const principal = await authenticateSensor(call.metadata, call.getPeer(), deps);
  const request = call.request;
  const events = request.events;
  if (events.length === 0) throw new CallError(status.INVALID_ARGUMENT, 'the batch has no events');
  if (events.length > deps.maxBatchSize) {
    throw new CallError(
      status.INVALID_ARGUMENT,
      `the batch has ${events.length} events; at most ${deps.maxBatchSize} are allowed per call`,
    );
  }
  const sensorId = request.sensorId;
  if ([...sensorId].length > SENSOR_ID_MAX_CHARS) {
    throw new CallError(status.INVALID_ARGUMENT, `sensor_id is longer than ${SENSOR_ID_MAX_CHARS} characters`);
  }
  const batchTimestamp = timestampToDate(request.clientTimestamp);
  if (batchTimestamp === undefined) {
    throw new CallError(status.INVALID_ARGUMENT, 'client_timestamp is outside the range of google.protobuf.Timestamp');
  }

  const results: EventResult[] = [];
  const accepted: CheckedEvent[] = [];
  for (const event of events) {
    const check = checkDecodedEvent(event, batchTimestamp);
    if (check.accepted) {
      accepted.push(check.event);
      results.push({ eventId: check.event.eventId, status: 'EVENT_STATUS_ACCEPTED', errorMessage: '' });
    } else {
      results.push({ eventId: event.eventId, status: 'EVENT_STATUS_REJECTED', errorMessage: check.reason });
    }
  }

  if (accepted.length > 0) {
    try {
      const rules = await deps.activeRules.rules(principal.tenantId);
      const toStore: NewEvent[] = accepted.map((event) => ({
        eventId: event.eventId,
        payload: event.payloadText,
        metadata: event.metadata,
        clientTimestamp: event.clientTimestamp,
        matches: matchRules(rules, event.payload, deps.logger),
      }));
      await insertEvents(deps.db, principal.tenantId, {
        sensorId,
        apiKeyId: principal.apiKeyId,
        receivedAt: new Date(),
        events: toStore,
      });
    } catch (error) {
      const failure = await databaseFailure(deps.db, error);
      deps.logger.warn({ err: error }, 'ReportEvents could not store the batch');
      throw failure;
    }
  }

  const rejectedCount = results.length - accepted.length;
  deps.metrics.eventsAccepted.inc(accepted.length);
  deps.metrics.eventsRejected.inc(rejectedCount);
  return { response: { results, acceptedCount: accepted.length, rejectedCount } };
}
