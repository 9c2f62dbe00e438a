import { createWireReader, readString, tagOf, WIRE_TYPE } from './wire-reader.js';

/**
 * How many tags a SyncRules call may carry, and how long they may be (UTF-8 bytes, as they
 * travel). A real sensor sends a handful of short `key=value` tags; the limits keep what one
 * call costs the server (decoding, scope matching, the cache key) small whatever a client sends.
 */
export interface SyncTagLimits {
  maxTags: number;
  maxTagBytes: number;
  maxTotalTagBytes: number;
}

/** Why a SyncRules request was refused: malformed bytes or tags beyond the limits. */
export class SyncRulesRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SyncRulesRequestError';
  }
}

// Field number of trapperkeeper/sensor/v1/sensor_api.proto.
const REQUEST_TAGS = tagOf(1, WIRE_TYPE.lengthDelimited);
/** A tag's field key (1 byte) and length prefix (a varint, at most 5) on the wire. */
const TAG_FIELD_OVERHEAD_BYTES = 6;
/** Room for fields a sensor built from newer protos may add (they are skipped). */
const OTHER_FIELDS_BYTES = 1024;

/** The largest request the limits allow: a bigger one is refused before it is read. */
export function maxSyncRulesRequestBytes(limits: SyncTagLimits): number {
  return limits.maxTotalTagBytes + limits.maxTags * TAG_FIELD_OVERHEAD_BYTES + OTHER_FIELDS_BYTES;
}

/**
 * The server's own decoder for SyncRulesRequest (`repeated string tags = 1`), reading tags as
 * proto-loader does (invalid UTF-8 becomes U+FFFD); unknown fields are skipped, and so is a
 * known field number with an unexpected wire type, as protoc treats it. A tag whose length runs
 * past the end of the message is malformed (protoc refuses it; protobufjs would cut it short).
 *
 * A request bigger than the limits allow (maxSyncRulesRequestBytes) is refused unread, and the
 * limits are checked on each tag's length prefix before its text is read: whatever a client
 * sends, a call costs no more than one within the limits.
 *
 * Throws SyncRulesRequestError, whose message is meant for the caller.
 */
export function decodeSyncRulesRequest(bytes: Uint8Array, limits: SyncTagLimits): string[] {
  const maxBytes = maxSyncRulesRequestBytes(limits);
  if (bytes.byteLength > maxBytes) {
    throw new SyncRulesRequestError(
      `the request is ${bytes.byteLength} bytes; within the tag limits (sensor_api.sync_max_tags, sync_max_total_tag_bytes) a SyncRulesRequest takes at most ${maxBytes}`,
    );
  }
  try {
    return readTags(bytes, limits);
  } catch (error) {
    if (error instanceof SyncRulesRequestError) throw error;
    throw new SyncRulesRequestError(`the request is not a valid SyncRulesRequest message (${(error as Error).message})`);
  }
}

function readTags(bytes: Uint8Array, limits: SyncTagLimits): string[] {
  const reader = createWireReader(bytes);
  const tags: string[] = [];
  let totalBytes = 0;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag !== REQUEST_TAGS) {
      reader.skipType(tag & 7);
      continue;
    }
    const lengthAt = reader.pos;
    const length = reader.uint32();
    if (reader.pos + length > reader.len) throw new RangeError('index out of range: a tag runs past the end of the message');
    if (tags.length === limits.maxTags) {
      throw new SyncRulesRequestError(
        `the request has more than ${limits.maxTags} tags; at most ${limits.maxTags} are allowed per call (sensor_api.sync_max_tags)`,
      );
    }
    if (length > limits.maxTagBytes) {
      throw new SyncRulesRequestError(
        `tag ${tags.length + 1} is ${length} bytes long; at most ${limits.maxTagBytes} bytes are allowed per tag (sensor_api.sync_max_tag_bytes)`,
      );
    }
    totalBytes += length;
    if (totalBytes > limits.maxTotalTagBytes) {
      throw new SyncRulesRequestError(
        `the tags add up to more than ${limits.maxTotalTagBytes} bytes; at most ${limits.maxTotalTagBytes} are allowed per call (sensor_api.sync_max_total_tag_bytes)`,
      );
    }
    reader.pos = lengthAt;
    tags.push(readString(reader));
  }
  return tags;
}
