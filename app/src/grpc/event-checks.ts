import { structToJson, StructDepthError, type JsonObject, type WireStruct } from './struct.js';
import { timestampToDate, type WireTimestamp } from './timestamp.js';

/** An event as @grpc/proto-loader decodes it. */
export interface WireEvent {
  eventId?: string | null;
  payload?: WireStruct | null;
  metadata?: Record<string, string> | null;
  clientTimestamp?: WireTimestamp | null;
}

/** Per-event limits of the reference design; the id limit is the column's. */
export const EVENT_LIMITS = {
  eventIdChars: 255,
  payloadBytes: 1024 * 1024,
  metadataPairs: 64,
  metadataKeyChars: 128,
  metadataValueChars: 1024,
} as const;

export interface CheckedEvent {
  eventId: string;
  payload: JsonObject;
  /** The payload as stored: compact JSON. */
  payloadText: string;
  metadata: Record<string, string>;
  clientTimestamp: Date | null;
}

export type EventCheck = { accepted: true; event: CheckedEvent } | { accepted: false; reason: string };

/** Counts characters (code points) as the database's VARCHAR limits do, not UTF-16 units. */
function characters(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

function reject(reason: string): EventCheck {
  return { accepted: false, reason };
}

/**
 * Decides whether one reported event can be stored, and in which form. `batchTimestamp`
 * (the request's client_timestamp) stands in for an event that carries none. A missing
 * payload is an empty object, as proto3 reads an absent message.
 */
export function checkEvent(event: WireEvent, batchTimestamp: Date | null): EventCheck {
  const eventId = event.eventId ?? '';
  if (eventId.length === 0) return reject('event_id is required');
  if (characters(eventId) > EVENT_LIMITS.eventIdChars) {
    return reject(`event_id is longer than ${EVENT_LIMITS.eventIdChars} characters`);
  }

  const entries = Object.entries(event.metadata ?? {});
  if (entries.length > EVENT_LIMITS.metadataPairs) {
    return reject(`metadata has ${entries.length} pairs; at most ${EVENT_LIMITS.metadataPairs} are allowed`);
  }
  for (const [key, value] of entries) {
    if (characters(key) > EVENT_LIMITS.metadataKeyChars) {
      return reject(`metadata key "${key.slice(0, 32)}..." is longer than ${EVENT_LIMITS.metadataKeyChars} characters`);
    }
    if (characters(value) > EVENT_LIMITS.metadataValueChars) {
      return reject(`metadata value of "${key}" is longer than ${EVENT_LIMITS.metadataValueChars} characters`);
    }
  }

  const clientTimestamp = timestampToDate(event.clientTimestamp);
  if (clientTimestamp === undefined) return reject('client_timestamp is outside the range of google.protobuf.Timestamp');

  let payload: JsonObject;
  try {
    payload = structToJson(event.payload);
  } catch (error) {
    if (error instanceof StructDepthError) return reject(error.message);
    throw error;
  }
  const payloadText = JSON.stringify(payload);
  const payloadBytes = Buffer.byteLength(payloadText, 'utf8');
  if (payloadBytes > EVENT_LIMITS.payloadBytes) {
    return reject(`payload is ${payloadBytes} bytes as JSON; at most ${EVENT_LIMITS.payloadBytes} are allowed`);
  }

  return {
    accepted: true,
    event: {
      eventId,
      payload,
      payloadText,
      metadata: Object.fromEntries(entries),
      clientTimestamp: clientTimestamp ?? batchTimestamp,
    },
  };
}
