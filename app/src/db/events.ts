import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { Action } from '../rules/model.js';
import type { Database, Dialect, Queryable, SqlValue } from './types.js';

/**
 * Events reported by sensors, and the rules each one matched. Storage is idempotent by
 * (tenant, event id): a sensor that re-sends a batch after a timeout does not duplicate it.
 */

/** A rule that matched an event, or whose evaluation failed on it (error set). */
export interface RuleMatch {
  ruleId: string;
  ruleName: string;
  action: Action | string;
  error: string | null;
}

export interface NewEvent {
  eventId: string;
  /** The payload as JSON text. */
  payload: string;
  metadata: Record<string, string>;
  clientTimestamp: Date | null;
  matches: RuleMatch[];
}

export interface EventBatch {
  sensorId: string;
  apiKeyId: string | null;
  receivedAt: Date;
  events: NewEvent[];
}

export interface RecentEvent {
  id: string;
  eventId: string;
  sensorId: string;
  receivedAt: string;
  payload: string;
  metadata: Record<string, string>;
  matches: { ruleId: string; ruleName: string; action: string; error: string | null }[];
}

interface EventRow {
  id: string;
  event_id: string;
  sensor_id: string;
  received_at: string;
  payload: string;
  metadata: string;
  [column: string]: unknown;
}

interface MatchRow {
  event_id: string;
  rule_id: string;
  rule_name: string;
  action: string;
  error: string | null;
  [column: string]: unknown;
}

/** Rows per multi-row INSERT: 9 parameters each stays far below every dialect's limit. */
const ROWS_PER_STATEMENT = 200;

const EVENT_COLUMNS = ['id', 'tenant_id', 'event_id', 'sensor_id', 'api_key_id', 'payload', 'metadata', 'client_timestamp', 'received_at'];
const MATCH_COLUMNS = ['id', 'tenant_id', 'event_id', 'rule_id', 'rule_name', 'action', 'error', 'created_at'];

/** uuid's v7() state, kept here because ids made with explicit random bytes bypass its own. */
const v7State = { msecs: Number.NEGATIVE_INFINITY, seq: 0 };
const V7_RANDOM_BYTES = 16;

/**
 * `count` UUIDv7 ids (RFC 9562), ordered as uuid's own v7() orders them: one millisecond
 * timestamp, a counter that starts at a random value each new millisecond and increments
 * within it. The random bytes for all of them are drawn in one call, not one per id: a batch
 * needs hundreds of ids, and per-call randomness was a visible share of ingestion time.
 */
function uuidv7Batch(count: number): string[] {
  const random = randomFillSync(new Uint8Array(count * V7_RANDOM_BYTES));
  const now = Date.now();
  const ids: string[] = new Array<string>(count);
  for (let index = 0; index < count; index++) {
    const bytes = random.subarray(index * V7_RANDOM_BYTES, (index + 1) * V7_RANDOM_BYTES);
    if (now > v7State.msecs) {
      // The counter's starting point, drawn from the random bytes as uuid does (31 bits).
      v7State.seq = (((bytes[6] as number) & 0x7f) << 24) | ((bytes[7] as number) << 16) | ((bytes[8] as number) << 8) | (bytes[9] as number);
      v7State.msecs = now;
    } else {
      v7State.seq = (v7State.seq + 1) | 0;
      if (v7State.seq === 0) v7State.msecs++;
    }
    ids[index] = uuidv7({ msecs: v7State.msecs, seq: v7State.seq, random: bytes });
  }
  return ids;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

function placeholders(rows: number, columns: number): string {
  const row = `(${Array.from({ length: columns }, () => '?').join(', ')})`;
  return Array.from({ length: rows }, () => row).join(', ');
}

/** An INSERT that skips rows whose (tenant_id, event_id) is already stored, and nothing else. */
function insertEventsIgnoringDuplicates(dialect: Dialect, rows: number): string {
  const insert = `INSERT INTO events (${EVENT_COLUMNS.join(', ')}) VALUES ${placeholders(rows, EVENT_COLUMNS.length)}`;
  // MySQL's INSERT IGNORE would also swallow truncation and other errors; a no-op update does not.
  return dialect === 'mysql'
    ? `${insert} ON DUPLICATE KEY UPDATE event_id = event_id`
    : `${insert} ON CONFLICT (tenant_id, event_id) DO NOTHING`;
}

/**
 * Stores a batch of accepted events in one transaction. An event whose id the tenant already
 * has is skipped (with its matches): the first copy stands. Returns how many were new.
 * (The sensor API writes through an EventWriter, which may share one transaction between
 * several batches.)
 */
export async function insertEvents(db: Database, tenantId: string, batch: EventBatch): Promise<{ stored: number }> {
  if (batch.events.length === 0) return { stored: 0 };
  return db.transaction((tx) => writeEvents(tx, tenantId, batch));
}

/** insertEvents' statements, run inside a transaction the caller holds. */
export async function writeEvents(tx: Queryable, tenantId: string, batch: EventBatch): Promise<{ stored: number }> {
  if (batch.events.length === 0) return { stored: 0 };
  const rowIds = uuidv7Batch(batch.events.length);
  const indexes = batch.events.map((_, index) => index);
  for (const part of chunks(indexes, ROWS_PER_STATEMENT)) {
    const params: SqlValue[] = [];
    for (const index of part) {
      const event = batch.events[index] as NewEvent;
      params.push(
        rowIds[index] as string,
        tenantId,
        event.eventId,
        batch.sensorId,
        batch.apiKeyId,
        event.payload,
        JSON.stringify(event.metadata),
        event.clientTimestamp,
        batch.receivedAt,
      );
    }
    await tx.execute(insertEventsIgnoringDuplicates(tx.dialect, part.length), params);
  }
  const stored = await storedRowIds(tx, rowIds);
  const storedMatches = batch.events.flatMap((event, index) => {
    const rowId = rowIds[index] as string;
    return stored.has(rowId) ? event.matches.map((match) => ({ rowId, match })) : [];
  });
  const matchIds = uuidv7Batch(storedMatches.length);
  const matchParams = storedMatches.map(({ rowId, match }, index): SqlValue[] => [
    matchIds[index] as string, tenantId, rowId, match.ruleId, match.ruleName, match.action, match.error, batch.receivedAt,
  ]);
  for (const part of chunks(matchParams, ROWS_PER_STATEMENT)) {
    await tx.execute(
      `INSERT INTO event_rule_matches (${MATCH_COLUMNS.join(', ')}) VALUES ${placeholders(part.length, MATCH_COLUMNS.length)}`,
      part.flat(),
    );
  }
  return { stored: stored.size };
}

/** Which of the row ids this batch generated made it in (the others were duplicates). */
async function storedRowIds(db: Queryable, rowIds: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const part of chunks(rowIds, ROWS_PER_STATEMENT)) {
    const rows = await db.query<{ id: string }>(
      `SELECT id FROM events WHERE id IN (${part.map(() => '?').join(', ')})`,
      part,
    );
    for (const row of rows) found.add(row.id);
  }
  return found;
}

/** The tenant's most recent events, newest first, each with the rules it matched. */
export async function listRecentEvents(db: Queryable, tenantId: string, limit: number): Promise<RecentEvent[]> {
  // Inlined rather than bound: MySQL prepared statements reject a bound LIMIT on some versions.
  const rowLimit = Math.max(0, Math.min(10_000, Math.trunc(Number.isFinite(limit) ? limit : 0)));
  if (rowLimit === 0) return [];
  const events = await db.query<EventRow>(
    `SELECT id, event_id, sensor_id, received_at, payload, metadata FROM events
     WHERE tenant_id = ? ORDER BY received_at DESC, id DESC LIMIT ${rowLimit}`,
    [tenantId],
  );
  if (events.length === 0) return [];
  const matches = await db.query<MatchRow>(
    `SELECT event_id, rule_id, rule_name, action, error FROM event_rule_matches
     WHERE tenant_id = ? AND event_id IN (${events.map(() => '?').join(', ')})
     ORDER BY rule_name, rule_id`,
    [tenantId, ...events.map((event) => event.id)],
  );
  const byEvent = new Map<string, RecentEvent['matches']>();
  for (const match of matches) {
    const list = byEvent.get(match.event_id) ?? [];
    list.push({ ruleId: match.rule_id, ruleName: match.rule_name, action: match.action, error: match.error });
    byEvent.set(match.event_id, list);
  }
  return events.map((event) => ({
    id: event.id,
    eventId: event.event_id,
    sensorId: event.sensor_id,
    receivedAt: event.received_at,
    payload: event.payload,
    metadata: JSON.parse(event.metadata) as Record<string, string>,
    matches: byEvent.get(event.id) ?? [],
  }));
}
