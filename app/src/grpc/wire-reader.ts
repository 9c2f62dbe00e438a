import protobuf from 'protobufjs/minimal.js';

/**
 * Reading the protobuf wire format by hand, with protobufjs's Reader (the one proto-loader's
 * decoders use), for the messages the server decodes itself (see report-events-request.ts).
 * The helpers keep protobufjs's rules: an embedded message cannot read past its own end, and
 * nesting deeper than its recursion limit is refused.
 */
export type WireReader = protobuf.Reader;

/** Message nesting protobufjs (like protoc) decodes at most; proto-loader refuses deeper input. */
export const MAX_MESSAGE_DEPTH: number = protobuf.Reader.recursionLimit;

export const WIRE_TYPE = { varint: 0, fixed64: 1, lengthDelimited: 2 } as const;

/** A field's tag as it appears on the wire: number and wire type in one varint. */
export function tagOf(fieldNumber: number, wireType: number): number {
  return (fieldNumber << 3) | wireType;
}

export function createWireReader(bytes: Uint8Array): WireReader {
  return protobuf.Reader.create(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** Up to this many bytes, ASCII text is decoded in JavaScript: cheaper than a native call each. */
const SHORT_TEXT_BYTES = 32;

/**
 * A string field, read as protobufjs's reader.string() reads it (invalid UTF-8 becomes U+FFFD,
 * a length running past the message is cut at its end), faster for the short keys and values
 * payloads are made of.
 */
export function readString(reader: WireReader): string {
  const length = reader.uint32();
  const start = reader.pos;
  const end = Math.min(start + length, reader.len);
  reader.pos = end;
  const bytes = reader.buf as Buffer;
  if (end - start <= SHORT_TEXT_BYTES) {
    let text = '';
    for (let index = start; index < end; index++) {
      const byte = bytes[index] as number;
      if (byte >= 0x80) return bytes.toString('utf8', start, end);
      text += String.fromCharCode(byte);
    }
    return text;
  }
  return bytes.toString('utf8', start, end);
}

/**
 * Starts reading an embedded (length-delimited) message: limits the reader to its bytes and
 * returns the outer limit for endEmbedded. Its fields are read while `reader.pos < reader.len`.
 */
export function beginEmbedded(reader: WireReader): number {
  const end = reader.uint32() + reader.pos;
  if (end > reader.len) throw new RangeError('index out of range: an embedded message runs past its container');
  const outerLimit = reader.len;
  reader.len = end;
  return outerLimit;
}

export function endEmbedded(reader: WireReader, outerLimit: number): void {
  if (reader.pos !== reader.len) throw new RangeError('index out of range: an embedded message was not read to its end');
  reader.len = outerLimit;
}

/** Moves past an embedded message whose reading was given up part-way (its limits may be nested). */
export function skipRestOfEmbedded(reader: WireReader, end: number, outerLimit: number): void {
  reader.pos = end;
  reader.len = outerLimit;
}

/** An int64 as a number (precision beyond 2^53 is lost, as with proto-loader's `longs: Number`). */
export function readInt64(reader: WireReader): number {
  return protobuf.util.LongBits.from(reader.int64()).toNumber(false);
}
