import type { NewEvent, RuleMatch } from '../../db/events.js';
import { evaluateRule } from '../../rules/evaluate.js';
import type { Rule } from '../../rules/model.js';
import { checkDecodedEvent, NUL_CHARACTER } from '../event-checks.js';
import { loadSensorApiDefinition } from '../proto.js';
import { decodeReportEventsRequest, TooManyEventsError, type DecodedReportEventsRequest } from '../report-events-request.js';
import { timestampToDate } from '../timestamp.js';

export type EventStatus = 'EVENT_STATUS_ACCEPTED' | 'EVENT_STATUS_REJECTED' | 'EVENT_STATUS_ERROR';

export interface EventResult {
  eventId: string;
  status: EventStatus;
  errorMessage: string;
}

/** A rule that threw while evaluating an event: recorded as an evaluation error, and logged. */
export interface EvaluationThrow {
  ruleId: string;
  message: string;
  stack: string | undefined;
}

export interface ReportEventsResponse {
  results: EventResult[];
  acceptedCount: number;
  rejectedCount: number;
}

/**
 * What a ReportEvents request becomes before anything is stored: either a refusal of the whole
 * call (INVALID_ARGUMENT), or the accepted events with their matches and the response the call
 * answers once they are stored, already encoded (a result per event). Plain data only: it
 * crosses from an ingestion worker to the main thread.
 */
export type PreparedBatch =
  | { kind: 'refused'; message: string }
  | {
      kind: 'prepared';
      sensorId: string;
      /** The accepted events, ready for insertEvents. */
      events: NewEvent[];
      acceptedCount: number;
      rejectedCount: number;
      /** The ReportEventsResponse, protobuf-encoded. */
      response: Uint8Array;
      evaluationThrows: EvaluationThrow[];
    };

let responseSerializer: ((response: ReportEventsResponse) => Buffer) | undefined;

/** proto-loader's encoding of the response, as the service would apply it. */
function encodeResponse(response: ReportEventsResponse): Uint8Array {
  responseSerializer ??= (loadSensorApiDefinition().service.ReportEvents as unknown as {
    responseSerialize(value: ReportEventsResponse): Buffer;
  }).responseSerialize;
  const bytes = responseSerializer(response);
  // A plain Uint8Array, as it arrives from a worker too; grpc-js gets a Buffer view of it.
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The column's limit. */
const SENSOR_ID_MAX_CHARS = 255;

function refused(message: string): PreparedBatch {
  return { kind: 'refused', message };
}

/**
 * Which rules an event matched, or failed to evaluate on (FAIL policy: the error is kept).
 * A rule that throws outright is recorded as an evaluation error too: one bad rule must not
 * lose the batch.
 */
export function matchRules(rules: readonly Rule[], payload: unknown, thrown: EvaluationThrow[]): RuleMatch[] {
  const matches: RuleMatch[] = [];
  for (const rule of rules) {
    let error: string | null;
    let matched: boolean;
    try {
      const evaluation = evaluateRule(rule, payload, { trace: false });
      matched = evaluation.matched;
      error = evaluation.error;
    } catch (caught) {
      const failure = caught instanceof Error ? caught : new Error(String(caught));
      thrown.push({ ruleId: rule.ruleId, message: failure.message, stack: failure.stack });
      matched = false;
      error = `evaluation failed: ${failure.message}`;
    }
    if (matched || error !== null) {
      matches.push({ ruleId: rule.ruleId, ruleName: rule.name, action: rule.action, error });
    }
  }
  return matches;
}

/**
 * The CPU-bound part of ReportEvents, from the request's bytes to the rows to store: decoding,
 * the batch's and each event's checks, and every active rule evaluated on every accepted
 * event. It touches no database and no shared state, so it can run on an ingestion worker
 * thread (see pool.ts) as well as on the main thread.
 */
export function prepareReportEventsBatch(bytes: Uint8Array, rules: readonly Rule[], maxBatchSize: number): PreparedBatch {
  let request: DecodedReportEventsRequest;
  try {
    request = decodeReportEventsRequest(bytes, maxBatchSize);
  } catch (error) {
    if (error instanceof TooManyEventsError) {
      return refused(`the batch has more than ${maxBatchSize} events; at most ${maxBatchSize} are allowed per call`);
    }
    return refused(`the request is not a valid ReportEventsRequest message (${(error as Error).message})`);
  }
  const decoded = request.events;
  if (decoded.length === 0) return refused('the batch has no events');
  const sensorId = request.sensorId;
  if ([...sensorId].length > SENSOR_ID_MAX_CHARS) return refused(`sensor_id is longer than ${SENSOR_ID_MAX_CHARS} characters`);
  // Every event of the batch is stored with it, so it concerns the whole request.
  if (sensorId.includes(NUL_CHARACTER)) return refused('sensor_id contains a NUL character (U+0000), which cannot be stored');
  const batchTimestamp = timestampToDate(request.clientTimestamp);
  if (batchTimestamp === undefined) return refused('client_timestamp is outside the range of google.protobuf.Timestamp');

  const results: EventResult[] = [];
  const events: NewEvent[] = [];
  const evaluationThrows: EvaluationThrow[] = [];
  for (const event of decoded) {
    const check = checkDecodedEvent(event, batchTimestamp);
    if (!check.accepted) {
      results.push({ eventId: event.eventId, status: 'EVENT_STATUS_REJECTED', errorMessage: check.reason });
      continue;
    }
    const accepted = check.event;
    results.push({ eventId: accepted.eventId, status: 'EVENT_STATUS_ACCEPTED', errorMessage: '' });
    events.push({
      eventId: accepted.eventId,
      payload: accepted.payloadText,
      metadata: accepted.metadata,
      clientTimestamp: accepted.clientTimestamp,
      matches: matchRules(rules, accepted.payload, evaluationThrows),
    });
  }
  const acceptedCount = events.length;
  const rejectedCount = results.length - acceptedCount;
  return {
    kind: 'prepared',
    sensorId,
    events,
    acceptedCount,
    rejectedCount,
    response: encodeResponse({ results, acceptedCount, rejectedCount }),
    evaluationThrows,
  };
}
