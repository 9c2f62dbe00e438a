import type { NewEvent, RuleMatch } from '../src/db/events.js';
import { jsonToStruct, type JsonObject, type WireStruct } from '../src/grpc/struct.js';
import { evaluateRule } from '../src/rules/evaluate.js';
import type { Rule } from '../src/rules/model.js';
import { generatePayloads } from './workload-payloads.js';

/**
 * The events both ingestion runs send: a pool of payloads, each kept in the forms the two
 * runs need (a Struct for gRPC, JSON text plus its rule matches for the direct insert).
 * Batch `sequence` takes the next `batchSize` payloads of the pool, round-robin, so both
 * runs store the same payloads in the same order.
 */
export interface EventPool {
  payloads: JsonObject[];
  structs: WireStruct[];
  texts: string[];
}

const METADATA = { source: 'bench', pipeline: 'telemetry' };

export function buildEventPool(size: number, seed: number): EventPool {
  const payloads = generatePayloads(size, seed);
  return { payloads, structs: payloads.map((payload) => jsonToStruct(payload)), texts: payloads.map((payload) => JSON.stringify(payload)) };
}

/** What the server stores for one payload: every rule that matched or failed on it (as ReportEvents decides). */
export function matchesFor(rules: readonly Rule[], payload: JsonObject): RuleMatch[] {
  const matches: RuleMatch[] = [];
  for (const rule of rules) {
    const evaluation = evaluateRule(rule, payload, { trace: false });
    if (evaluation.matched || evaluation.error !== null) {
      matches.push({ ruleId: rule.ruleId, ruleName: rule.name, action: rule.action, error: evaluation.error });
    }
  }
  return matches;
}

function poolIndex(pool: EventPool, sequence: number, batchSize: number, position: number): number {
  return (sequence * batchSize + position) % pool.payloads.length;
}

function wireTimestamp(millis: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(millis / 1000);
  return { seconds, nanos: (millis - seconds * 1000) * 1_000_000 };
}

/** A ReportEventsRequest as a sensor sends it. Event ids are unique per (label, sequence, position). */
export function wireBatch(pool: EventPool, label: string, sequence: number, batchSize: number, sensorId: string): Record<string, unknown> {
  const timestamp = wireTimestamp(Date.now());
  return {
    sensorId,
    clientTimestamp: timestamp,
    events: Array.from({ length: batchSize }, (_, position) => ({
      eventId: `${label}-${sequence}-${position}`,
      payload: pool.structs[poolIndex(pool, sequence, batchSize, position)],
      metadata: METADATA,
      clientTimestamp: timestamp,
    })),
  };
}

/** The same batch as insertEvents receives it, with its precomputed matches. */
export function storedBatch(
  pool: EventPool,
  matches: readonly RuleMatch[][],
  label: string,
  sequence: number,
  batchSize: number,
): NewEvent[] {
  const clientTimestamp = new Date(Date.now());
  return Array.from({ length: batchSize }, (_, position) => {
    const index = poolIndex(pool, sequence, batchSize, position);
    return {
      eventId: `${label}-${sequence}-${position}`,
      payload: pool.texts[index] as string,
      metadata: METADATA,
      clientTimestamp,
      matches: matches[index] ?? [],
    };
  });
}
