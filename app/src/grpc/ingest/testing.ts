/** Builders shared by the ingestion tests. Not part of the server's API. */
import { condition, groups, newRule, num, path, stored, str } from '../../rules/testing.js';
import type { Rule } from '../../rules/model.js';
import { loadSensorApiDefinition } from '../proto.js';
import { jsonToStruct } from '../struct.js';
import type { ReportEventsResponse } from './prepare-batch.js';

const method = loadSensorApiDefinition().service.ReportEvents as unknown as {
  requestSerialize(value: unknown): Buffer;
  responseDeserialize(bytes: Buffer): ReportEventsResponse;
};

/** A ReportEventsResponse as a sensor generated from the protos reads it. */
export function decodeResponse(bytes: Uint8Array): ReportEventsResponse {
  return method.responseDeserialize(Buffer.from(bytes));
}

export interface TestEvent {
  eventId: string;
  payload?: Record<string, unknown>;
  metadata?: Record<string, string>;
}

/** A ReportEventsRequest encoded as a sensor generated from the protos encodes it. */
export function encodeRequest(events: readonly TestEvent[], sensorId = 'sensor-1'): Buffer {
  return method.requestSerialize({
    sensorId,
    events: events.map((event) => ({
      eventId: event.eventId,
      payload: jsonToStruct(event.payload ?? {}),
      metadata: event.metadata ?? {},
    })),
  });
}

/** An active rule `field > threshold`. */
export function greaterThan(ruleId: string, field: string, threshold: number): Rule {
  return stored(
    newRule(ruleId, { state: 'RULE_STATE_ACTIVE', orGroups: groups([condition({ fieldPath: path(field), op: 'OPERATOR_GT', value: num(threshold) })]) }),
    ruleId,
  );
}

/** An active rule `field == text`, failing the event when the field is missing. */
export function equalsOrFail(ruleId: string, field: string, text: string): Rule {
  return stored(
    newRule(ruleId, {
      state: 'RULE_STATE_ACTIVE',
      action: 'ACTION_FAIL',
      orGroups: groups([condition({ fieldPath: path(field), op: 'OPERATOR_EQ', value: str(text), onMissingField: 'ON_MISSING_FIELD_FAIL' })]),
    }),
    ruleId,
  );
}
