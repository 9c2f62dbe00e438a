/**
 * How a payload value is read as the type a condition asks for (reference: "Rule semantics",
 * coercion). Each function returns undefined when the value cannot be read that way, which
 * the evaluator reports as a coercion failure. Null and missing values never get here: they
 * go to the condition's onMissingField policy first.
 */

// A plain decimal number, optionally signed, with an optional exponent. No hex, no
// "Infinity", no "NaN", no digit separators: Number() alone would accept too much.
const DECIMAL_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** `"10"`, `"1e3"`, `" 5 "` are numbers; `""`, `"12abc"`, `"0x1F"` are not. */
export function parseNumericString(text: string): number | undefined {
  const trimmed = text.trim();
  return DECIMAL_NUMBER.test(trimmed) ? Number(trimmed) : undefined;
}

/** FIELD_TYPE_NUMERIC: JSON numbers and numeric strings; booleans, objects and lists fail. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return parseNumericString(value);
  return undefined;
}

/**
 * FIELD_TYPE_TEXT: strings as they are, numbers in their shortest round-trip decimal form
 * (1.5 -> "1.5", 1e21 -> "1e+21", as JavaScript and JSON write them), booleans as
 * "true"/"false". Only objects and lists cannot be text.
 */
export function toText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return undefined;
}

/** FIELD_TYPE_BOOLEAN: only JSON true and false; "true" and 1 fail. */
export function toBoolean(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

/**
 * FIELD_TYPE_ANY equality: same-typed scalars compare directly, a number and a numeric
 * string compare as numbers ("25" equals 25, "1e1" equals 10). Anything else (a boolean
 * against a string or number, a non-numeric string against a number, objects and lists) is
 * not comparable: undefined. NaN never equals anything.
 */
export function looseEquals(a: unknown, b: unknown): boolean | undefined {
  const typeA = typeof a;
  if (typeA === typeof b && (typeA === 'string' || typeA === 'number' || typeA === 'boolean')) return a === b;
  if (typeA === 'number' && typeof b === 'string') {
    const n = parseNumericString(b);
    return n === undefined ? undefined : a === n;
  }
  if (typeA === 'string' && typeof b === 'number') {
    const n = parseNumericString(a as string);
    return n === undefined ? undefined : n === b;
  }
  return undefined;
}
