/**
 * Reading the proto3 JSON mapping (https://protobuf.dev/programming-guides/json/) by hand,
 * so that every problem is collected with the path where it occurs, e.g.
 * `orGroups[0].conditions[1].value`, rather than stopping at the first one.
 */
import { parseNumericString } from './coercion.js';

export interface ValidationIssue {
  path: string;
  message: string;
}

export type ProtoObject = Record<string, unknown>;

export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

export function isJsonObject(value: unknown): value is ProtoObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** "a number", "a list", "null", ...: what a person sees when told what they gave. */
export function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string': return 'text';
    case 'number': return 'a number';
    case 'boolean': return 'a boolean';
    case 'object': return 'an object';
    default: return typeof value;
  }
}

function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Names people carry over from the reference's own rule format, or from a fetched rule. */
const FIELD_HINTS: Record<string, string> = {
  ruleId: 'the server assigns it, remove it',
  createdAt: 'the server assigns it, remove it',
  any: 'that is the reference design\'s name, use orGroups',
  all: 'that is the reference design\'s name, use conditions',
  field: 'that is the reference design\'s name, use fieldPath: { segments: [...] }',
  operator: 'use op',
  values: 'lists go inside value, as value: { stringArray: { values: [...] } } or numericArray',
};

/**
 * Reads a proto3 JSON message whose fields are `fields` (lowerCamelCase). As proto3 JSON
 * parsers do, it also accepts each field's original snake_case name and treats null as absent
 * (except for fields in `keepNull`). Unknown and repeated fields are reported.
 * Returns undefined, with an issue, when `input` is not an object.
 */
export function readMessage(
  input: unknown,
  path: string,
  fields: readonly string[],
  issues: ValidationIssue[],
  keepNull: readonly string[] = [],
): ProtoObject | undefined {
  if (!isJsonObject(input)) {
    issues.push({ path, message: `must be an object, got ${describeJsonType(input)}` });
    return undefined;
  }
  const read: ProtoObject = {};
  const spelledAs = new Map<string, string>();
  for (const key of Object.keys(input)) {
    const field = snakeToCamel(key);
    if (!fields.includes(field)) {
      const hint = FIELD_HINTS[key] ?? FIELD_HINTS[field] ?? `expected one of ${fields.join(', ')}`;
      issues.push({ path: childPath(path, key), message: `unknown field, ${hint}` });
      continue;
    }
    const earlier = spelledAs.get(field);
    if (earlier !== undefined) {
      issues.push({ path: childPath(path, key), message: `is the same field as ${earlier}, give it once` });
      continue;
    }
    spelledAs.set(field, key);
    const value = input[key];
    if (value === null && !keepNull.includes(field)) continue;
    read[field] = value;
  }
  return read;
}

export function readString(value: unknown, path: string, issues: ValidationIssue[]): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  issues.push({ path, message: `must be text, got ${describeJsonType(value)}` });
  return undefined;
}

export function readBoolean(value: unknown, path: string, issues: ValidationIssue[]): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'boolean') return value;
  issues.push({ path, message: `must be true or false, got ${describeJsonType(value)}` });
  return undefined;
}

/** A proto3 `double`: a JSON number, or a string holding one. Infinity and NaN are refused. */
export function readDouble(value: unknown, path: string, issues: ValidationIssue[]): number | undefined {
  if (value === undefined) return undefined;
  const number = typeof value === 'string' ? parseNumericString(value) : value;
  if (typeof number === 'number' && Number.isFinite(number)) return number;
  issues.push({ path, message: `must be a finite number, got ${describeValue(value)}` });
  return undefined;
}

/** A proto3 `int32`: a JSON integer, or a string holding one. */
export function readInt32(value: unknown, path: string, issues: ValidationIssue[]): number | undefined {
  if (value === undefined) return undefined;
  const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof number === 'number' && Number.isInteger(number) && number >= -(2 ** 31) && number < 2 ** 31) {
    return number;
  }
  issues.push({ path, message: `must be a whole number, got ${describeValue(value)}` });
  return undefined;
}

export function readList(value: unknown, path: string, issues: ValidationIssue[]): unknown[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value;
  issues.push({ path, message: `must be a list, got ${describeJsonType(value)}` });
  return undefined;
}

/** An enum by name, or by number as proto3 JSON parsers also accept. `names[n]` has number n. */
export function readEnum<Name extends string>(
  value: unknown,
  path: string,
  names: readonly Name[],
  issues: ValidationIssue[],
): Name | undefined {
  if (value === undefined) return undefined;
  const name = typeof value === 'number' ? names[value] : names.find((n) => n === value);
  if (name !== undefined) return name;
  issues.push({ path, message: `must be one of ${names.join(', ')}, got ${describeValue(value)}` });
  return undefined;
}

/** A short rendering of a value a person gave, for error messages. */
export function describeValue(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) return String(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}
