import type { DecodedEvent } from './report-events-request.js';
import { StructDepthError, type JsonObject } from './struct.js';
import { timestampToDate } from './timestamp.js';

/** Per-event limits of the reference design; the id limit is the column's. */
export const EVENT_LIMITS = {
  eventIdChars: 255,
  payloadBytes: 1024 * 1024,
  metadataPairs: 64,
  metadataKeyChars: 128,
  metadataValueChars: 1024,
} as const;

/**
 * U+0000. PostgreSQL cannot store it in text at all ("invalid byte sequence for encoding UTF8:
 * 0x00"), so an id holding it is refused on every database alike, before it reaches one.
 * Payload and metadata are stored as JSON text, where it is written as the escape \u0000 and is
 * stored and read back unchanged on every database; they keep it. (Lone surrogates cannot come
 * out of the decoder, which reads invalid UTF-8 as U+FFFD, and JSON.stringify escapes them.)
 */
export const NUL_CHARACTER = '\u0000';

export interface CheckedEvent {
  eventId: string;
  payload: JsonObject;
  /** The payload as stored: compact JSON. */
  payloadText: string;
  metadata: Record<string, string>;
  clientTimestamp: Date | null;
}

export type EventCheck = { accepted: true; event: CheckedEvent } | { accepted: false; reason: string };

/**
 * Whether text has more characters (code points, as the database's VARCHAR limits count) than
 * `limit`. A string never has more code points than UTF-16 units, so short ones need no count.
 */
function longerThan(text: string, limit: number): boolean {
  if (text.length <= limit) return false;
  let count = 0;
  for (const _ of text) count += 1;
  return count > limit;
}

function reject(reason: string): EventCheck {
  return { accepted: false, reason };
}

/**
 * Decides whether one reported event can be stored, and in which form. `batchTimestamp`
 * (the request's client_timestamp) stands in for an event that carries none.
 */
export function checkDecodedEvent(event: DecodedEvent, batchTimestamp: Date | null): EventCheck {
  const eventId = event.eventId;
  if (eventId.length === 0) return reject('event_id is required');
  if (longerThan(eventId, EVENT_LIMITS.eventIdChars)) {
    return reject(`event_id is longer than ${EVENT_LIMITS.eventIdChars} characters`);
  }
  if (eventId.includes(NUL_CHARACTER)) return reject('event_id contains a NUL character (U+0000), which cannot be stored');

  const metadata = event.metadata;
  const keys = Object.keys(metadata);
  if (keys.length > EVENT_LIMITS.metadataPairs) {
    return reject(`metadata has ${keys.length} pairs; at most ${EVENT_LIMITS.metadataPairs} are allowed`);
  }
  for (const key of keys) {
    if (longerThan(key, EVENT_LIMITS.metadataKeyChars)) {
      return reject(`metadata key "${key.slice(0, 32)}..." is longer than ${EVENT_LIMITS.metadataKeyChars} characters`);
    }
    if (longerThan(metadata[key] as string, EVENT_LIMITS.metadataValueChars)) {
      return reject(`metadata value of "${key}" is longer than ${EVENT_LIMITS.metadataValueChars} characters`);
    }
  }

  const clientTimestamp = timestampToDate(event.clientTimestamp);
  if (clientTimestamp === undefined) return reject('client_timestamp is outside the range of google.protobuf.Timestamp');

  const payload = event.payload;
  if (payload instanceof StructDepthError) return reject(payload.message);
  const payloadText = JSON.stringify(payload);
  const payloadBytes = Buffer.byteLength(payloadText, 'utf8');
  if (payloadBytes > EVENT_LIMITS.payloadBytes) {
    return reject(`payload is ${payloadBytes} bytes as JSON; at most ${EVENT_LIMITS.payloadBytes} are allowed`);
  }

  return {
    accepted: true,
    event: { eventId, payload, payloadText, metadata, clientTimestamp: clientTimestamp ?? batchTimestamp },
  };
}
