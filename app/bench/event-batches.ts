import type { NewEvent, RuleMatch } from '../src/db/events.js';
import { jsonToStruct, type JsonObject, type WireStruct } from '../src/grpc/struct.js';
import { matchRules, type EvaluationThrow } from '../src/grpc/ingest/prepare-batch.js';
import type { Rule } from '../src/rules/model.js';
import { generatePayloads } from './workload-payloads.js';

/**
 * The events both ingestion runs send: a pool of payloads, each kept in the forms the two
 * runs need (a Struct for gRPC, JSON text plus its rule matches for the direct insert).
 * Batches go round the pool in a cycle of `batchCycle` batches, batch `sequence` taking the
 * `batchSize` payloads after those of the batch before it in the cycle, so both runs store
 * the same payloads in the same order, and the gRPC sensors need only one encoded request
 * per batch of the cycle (see encoded-requests.ts).
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
  const thrown: EvaluationThrow[] = [];
  const matches = matchRules(rules, payload, thrown);
  if (thrown.length > 0) throw new Error(`benchmark rule ${thrown[0]?.ruleId} threw: ${thrown[0]?.message}`);
  return matches;
}

/** How many batches it takes to go round the pool once (a last partial round included). */
export function batchCycle(pool: EventPool, batchSize: number): number {
  return Math.ceil(pool.payloads.length / batchSize);
}

function poolIndex(pool: EventPool, sequence: number, batchSize: number, position: number): number {
  return (((sequence % batchCycle(pool, batchSize)) * batchSize) + position) % pool.payloads.length;
}

/** Digits of the batch sequence in an event id: fixed, so every id of a position has one length. */
export const EVENT_ID_SEQUENCE_DIGITS = 10;

/** Unique per (label, sequence, position); the same in both runs. */
export function benchEventId(label: string, sequence: number, position: number): string {
  return `${label}-${String(sequence).padStart(EVENT_ID_SEQUENCE_DIGITS, '0')}-${position}`;
}

function wireTimestamp(millis: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(millis / 1000);
  return { seconds, nanos: (millis - seconds * 1000) * 1_000_000 };
}

/** A ReportEventsRequest as a sensor sends it. */
export function wireBatch(pool: EventPool, label: string, sequence: number, batchSize: number, sensorId: string): Record<string, unknown> {
  const timestamp = wireTimestamp(Date.now());
  return {
    sensorId,
    clientTimestamp: timestamp,
    events: Array.from({ length: batchSize }, (_, position) => ({
      eventId: benchEventId(label, sequence, position),
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
      eventId: benchEventId(label, sequence, position),
      payload: pool.texts[index] as string,
      metadata: METADATA,
      clientTimestamp,
      matches: matches[index] ?? [],
    };
  });
}
