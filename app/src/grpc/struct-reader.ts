import { setOwnField } from './own-field.js';
import { StructDepthError, type JsonObject, type JsonValue } from './struct.js';
import {
  beginEmbedded, endEmbedded, MAX_MESSAGE_DEPTH, readString, tagOf, WIRE_TYPE, type WireReader,
} from './wire-reader.js';

/**
 * google.protobuf.Struct read straight from the wire into plain JSON, in one pass: no
 * intermediate message objects (a payload has one per value). Same reading as structToJson
 * over proto-loader's output: an unset value is null, a non-finite number is null (JSON cannot
 * hold it), a "__proto__" key is an ordinary field. When a Value carries several members of
 * its oneof, the last one on the wire wins, as proto3 specifies.
 *
 * `depth` is the message nesting level from the top of the request, checked against the limit
 * proto-loader (protobufjs) applies, so the payloads accepted are the same; a deeper one throws
 * StructDepthError, which the caller turns into a rejection of that event alone.
 */

// Field numbers of google/protobuf/struct.proto.
const STRUCT_FIELDS = tagOf(1, WIRE_TYPE.lengthDelimited);
const ENTRY_KEY = tagOf(1, WIRE_TYPE.lengthDelimited);
const ENTRY_VALUE = tagOf(2, WIRE_TYPE.lengthDelimited);
const VALUE_NULL = tagOf(1, WIRE_TYPE.varint);
const VALUE_NUMBER = tagOf(2, WIRE_TYPE.fixed64);
const VALUE_STRING = tagOf(3, WIRE_TYPE.lengthDelimited);
const VALUE_BOOL = tagOf(4, WIRE_TYPE.varint);
const VALUE_STRUCT = tagOf(5, WIRE_TYPE.lengthDelimited);
const VALUE_LIST = tagOf(6, WIRE_TYPE.lengthDelimited);
const LIST_VALUES = tagOf(1, WIRE_TYPE.lengthDelimited);

function checkDepth(depth: number): void {
  if (depth > MAX_MESSAGE_DEPTH) {
    throw new StructDepthError(`payload nests deeper than the ${MAX_MESSAGE_DEPTH} message levels protobuf decodes`);
  }
}

/** The fields of the Struct the reader is limited to (see beginEmbedded). */
export function readStructFields(reader: WireReader, depth: number): JsonObject {
  checkDepth(depth);
  const result: JsonObject = {};
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag !== STRUCT_FIELDS) {
      reader.skipType(tag & 7);
      continue;
    }
    // A map entry is not a message level of its own: protobufjs decodes it inline.
    const outerLimit = beginEmbedded(reader);
    let key = '';
    let value: JsonValue = null;
    while (reader.pos < reader.len) {
      const entryTag = reader.uint32();
      if (entryTag === ENTRY_KEY) {
        key = readString(reader);
      } else if (entryTag === ENTRY_VALUE) {
        const valueLimit = beginEmbedded(reader);
        value = readValueFields(reader, depth + 1);
        endEmbedded(reader, valueLimit);
      } else {
        reader.skipType(entryTag & 7);
      }
    }
    endEmbedded(reader, outerLimit);
    setOwnField(result, key, value);
  }
  return result;
}

function readValueFields(reader: WireReader, depth: number): JsonValue {
  checkDepth(depth);
  let value: JsonValue = null;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    switch (tag) {
      case VALUE_NULL:
        reader.skip();
        value = null;
        break;
      case VALUE_NUMBER: {
        const number = reader.double();
        value = Number.isFinite(number) ? number : null;
        break;
      }
      case VALUE_STRING:
        value = readString(reader);
        break;
      case VALUE_BOOL:
        value = reader.bool();
        break;
      case VALUE_STRUCT: {
        const outerLimit = beginEmbedded(reader);
        value = readStructFields(reader, depth + 1);
        endEmbedded(reader, outerLimit);
        break;
      }
      case VALUE_LIST: {
        const outerLimit = beginEmbedded(reader);
        value = readListValues(reader, depth + 1);
        endEmbedded(reader, outerLimit);
        break;
      }
      default:
        reader.skipType(tag & 7);
    }
  }
  return value;
}

function readListValues(reader: WireReader, depth: number): JsonValue[] {
  checkDepth(depth);
  const values: JsonValue[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag !== LIST_VALUES) {
      reader.skipType(tag & 7);
      continue;
    }
    const outerLimit = beginEmbedded(reader);
    values.push(readValueFields(reader, depth + 1));
    endEmbedded(reader, outerLimit);
  }
  return values;
}
