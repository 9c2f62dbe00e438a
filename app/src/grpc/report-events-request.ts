import { setOwnField } from './own-field.js';
import { readStructFields } from './struct-reader.js';
import { StructDepthError, type JsonObject } from './struct.js';
import type { WireTimestamp } from './timestamp.js';
import {
  beginEmbedded, createWireReader, endEmbedded, readInt64, readString, skipRestOfEmbedded, tagOf, WIRE_TYPE, type WireReader,
} from './wire-reader.js';

/**
 * The server's own decoder for ReportEventsRequest, used instead of proto-loader's: that one
 * builds a message object for every value of every payload, then a defaulted copy of each,
 * which structToJson walks once more. This reads the bytes once, straight into what the
 * server uses, with the reading proto-loader gives (PROTO_LOADER_OPTIONS): unset strings are
 * '', an unset payload is {}, an unset timestamp is null, a repeated singular field keeps its
 * last occurrence, unknown fields are skipped (so is a known field number with an unexpected
 * wire type, as protoc treats it), and malformed bytes throw, failing that call only.
 *
 * Unlike proto-loader, a payload nested deeper than protobuf's limit costs only its own event
 * (see DecodedEvent.payload) instead of failing the whole batch, and a request with more events
 * than the caller allows stops being read at the first one too many (TooManyEventsError): the
 * cost of reading a request is bounded by the batch limit, not by how many events fit in it.
 */
export interface DecodedEvent {
  eventId: string;
  /** The payload as JSON, or why it could not be read. */
  payload: JsonObject | StructDepthError;
  metadata: Record<string, string>;
  clientTimestamp: WireTimestamp | null;
}

/** The request has more than `maxEvents` events; the rest of it was not read. */
export class TooManyEventsError extends Error {
  constructor(readonly maxEvents: number) {
    super(`the request has more than ${maxEvents} events`);
    this.name = 'TooManyEventsError';
  }
}

export interface DecodedReportEventsRequest {
  events: DecodedEvent[];
  sensorId: string;
  clientTimestamp: WireTimestamp | null;
}

// Field numbers of trapperkeeper/sensor/v1/sensor_api.proto, event.proto and
// google/protobuf/timestamp.proto.
const REQUEST_EVENTS = tagOf(1, WIRE_TYPE.lengthDelimited);
const REQUEST_SENSOR_ID = tagOf(2, WIRE_TYPE.lengthDelimited);
const REQUEST_CLIENT_TIMESTAMP = tagOf(3, WIRE_TYPE.lengthDelimited);
const EVENT_ID = tagOf(1, WIRE_TYPE.lengthDelimited);
const EVENT_PAYLOAD = tagOf(2, WIRE_TYPE.lengthDelimited);
const EVENT_METADATA = tagOf(3, WIRE_TYPE.lengthDelimited);
const EVENT_CLIENT_TIMESTAMP = tagOf(4, WIRE_TYPE.lengthDelimited);
const ENTRY_KEY = tagOf(1, WIRE_TYPE.lengthDelimited);
const ENTRY_VALUE = tagOf(2, WIRE_TYPE.lengthDelimited);
const TIMESTAMP_SECONDS = tagOf(1, WIRE_TYPE.varint);
const TIMESTAMP_NANOS = tagOf(2, WIRE_TYPE.varint);

/** The payload's message nesting level as protobufjs counts it: request 0, event 1, payload 2. */
const PAYLOAD_DEPTH = 2;

export function decodeReportEventsRequest(bytes: Uint8Array, maxEvents: number): DecodedReportEventsRequest {
  const reader = createWireReader(bytes);
  const request: DecodedReportEventsRequest = { events: [], sensorId: '', clientTimestamp: null };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    switch (tag) {
      case REQUEST_EVENTS: {
        if (request.events.length === maxEvents) throw new TooManyEventsError(maxEvents);
        const outerLimit = beginEmbedded(reader);
        request.events.push(readEvent(reader));
        endEmbedded(reader, outerLimit);
        break;
      }
      case REQUEST_SENSOR_ID:
        request.sensorId = readString(reader);
        break;
      case REQUEST_CLIENT_TIMESTAMP:
        request.clientTimestamp = readEmbeddedTimestamp(reader);
        break;
      default:
        reader.skipType(tag & 7);
    }
  }
  return request;
}

function readEvent(reader: WireReader): DecodedEvent {
  const event: DecodedEvent = { eventId: '', payload: {}, metadata: {}, clientTimestamp: null };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    switch (tag) {
      case EVENT_ID:
        event.eventId = readString(reader);
        break;
      case EVENT_PAYLOAD:
        event.payload = readEmbeddedPayload(reader);
        break;
      case EVENT_METADATA:
        readMetadataEntry(reader, event.metadata);
        break;
      case EVENT_CLIENT_TIMESTAMP:
        event.clientTimestamp = readEmbeddedTimestamp(reader);
        break;
      default:
        reader.skipType(tag & 7);
    }
  }
  return event;
}

function readEmbeddedPayload(reader: WireReader): JsonObject | StructDepthError {
  const outerLimit = beginEmbedded(reader);
  const end = reader.len;
  try {
    const payload = readStructFields(reader, PAYLOAD_DEPTH);
    endEmbedded(reader, outerLimit);
    return payload;
  } catch (error) {
    if (!(error instanceof StructDepthError)) throw error;
    skipRestOfEmbedded(reader, end, outerLimit);
    return error;
  }
}

/** One map<string, string> entry; a repeated key keeps its last value. */
function readMetadataEntry(reader: WireReader, metadata: Record<string, string>): void {
  const outerLimit = beginEmbedded(reader);
  let key = '';
  let value = '';
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === ENTRY_KEY) key = readString(reader);
    else if (tag === ENTRY_VALUE) value = readString(reader);
    else reader.skipType(tag & 7);
  }
  endEmbedded(reader, outerLimit);
  setOwnField(metadata, key, value);
}

function readEmbeddedTimestamp(reader: WireReader): WireTimestamp {
  const outerLimit = beginEmbedded(reader);
  const timestamp = { seconds: 0, nanos: 0 };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === TIMESTAMP_SECONDS) timestamp.seconds = readInt64(reader);
    else if (tag === TIMESTAMP_NANOS) timestamp.nanos = reader.int32();
    else reader.skipType(tag & 7);
  }
  endEmbedded(reader, outerLimit);
  return timestamp;
}
