import { setOwnField } from './own-field.js';

/**
 * google.protobuf.Struct <-> plain JSON, in the object shapes @grpc/proto-loader uses with
 * PROTO_LOADER_OPTIONS (a `kind` field names the member of Value's oneof that is set).
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface WireValue {
  kind?: string | null;
  nullValue?: string | number | null;
  numberValue?: number | null;
  stringValue?: string | null;
  boolValue?: boolean | null;
  structValue?: WireStruct | null;
  listValue?: { values?: WireValue[] | null } | null;
}

export interface WireStruct {
  fields?: Record<string, WireValue> | null;
}

/** Deeper payloads are refused rather than risking the stack on hostile input. */
export const MAX_STRUCT_DEPTH = 100;

export class StructDepthError extends Error {
  constructor(message = `payload nests deeper than ${MAX_STRUCT_DEPTH} levels`) {
    super(message);
    this.name = 'StructDepthError';
  }
}

/** Which member of Value's oneof is set: the `kind` discriminator, else the first non-null member. */
function valueKind(value: WireValue): string | undefined {
  if (value.kind) return value.kind;
  for (const member of ['structValue', 'listValue', 'stringValue', 'numberValue', 'boolValue', 'nullValue'] as const) {
    if (value[member] !== undefined && value[member] !== null) return member;
  }
  return undefined;
}

/** An unset Struct (a missing payload) reads as `{}`, as proto3 reads an absent message as its default. */
export function structToJson(struct: WireStruct | null | undefined, depth = 0): JsonObject {
  if (depth > MAX_STRUCT_DEPTH) throw new StructDepthError();
  const result: JsonObject = {};
  const fields = struct?.fields;
  if (!fields) return result;
  for (const key of Object.keys(fields)) setOwnField(result, key, valueToJson(fields[key], depth + 1));
  return result;
}

/**
 * JSON has no NaN or Infinity, and the payload is stored as JSON: a non-finite number reads as
 * null, so what rules see is exactly what is stored.
 */
export function valueToJson(value: WireValue | null | undefined, depth = 0): JsonValue {
  if (depth > MAX_STRUCT_DEPTH) throw new StructDepthError();
  if (!value) return null;
  switch (valueKind(value)) {
    case 'structValue':
      return structToJson(value.structValue, depth + 1);
    case 'listValue':
      return (value.listValue?.values ?? []).map((item) => valueToJson(item, depth + 1));
    case 'stringValue':
      return value.stringValue ?? '';
    case 'numberValue': {
      const number = value.numberValue ?? 0;
      return Number.isFinite(number) ? number : null;
    }
    case 'boolValue':
      return value.boolValue ?? false;
    default:
      return null;
  }
}

export function jsonToStruct(object: Record<string, unknown>): WireStruct {
  const fields: Record<string, WireValue> = {};
  for (const [key, value] of Object.entries(object)) {
    if (value !== undefined) setOwnField(fields, key, jsonToValue(value));
  }
  return { fields };
}

/** Throws TypeError for what JSON cannot hold (functions, symbols, bigints, non-finite numbers). */
export function jsonToValue(value: unknown): WireValue {
  if (value === null) return { nullValue: 'NULL_VALUE' };
  switch (typeof value) {
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { boolValue: value };
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${value} is not a JSON number`);
      return { numberValue: value };
    case 'object':
      if (Array.isArray(value)) return { listValue: { values: value.map((item) => jsonToValue(item ?? null)) } };
      return { structValue: jsonToStruct(value as Record<string, unknown>) };
    default:
      throw new TypeError(`a ${typeof value} cannot be held in a google.protobuf.Value`);
  }
}
