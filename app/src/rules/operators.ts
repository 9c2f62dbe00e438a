/**
 * What each comparison operator means for each field type (reference: "Rule semantics",
 * operators and coercion). Presence operators (EXISTS, IS_NULL) need no comparison and are
 * handled by the evaluator; everything here sees a present, non-null field value.
 */
import { looseEquals, toBoolean, toNumber, toText } from './coercion.js';
import type { ConditionValue, FieldType, Operator } from './model.js';

export type ComparisonOutcome = 'true' | 'false' | 'coercion-failed';

/** `other` is the literal value, or the value of the field named by fieldRef. */
export type Comparator = (value: unknown, other: unknown) => ComparisonOutcome;

/** The plain value(s) inside a ConditionValue: a scalar, null, or the list of an array. */
export function literalOf(value: ConditionValue | undefined): unknown {
  if (value === undefined) return undefined;
  if ('stringValue' in value) return value.stringValue;
  if ('numericValue' in value) return value.numericValue;
  if ('booleanValue' in value) return value.booleanValue;
  if ('stringArray' in value) return value.stringArray.values;
  if ('numericArray' in value) return value.numericArray.values;
  return null;
}

type Equality = (value: unknown, other: unknown) => boolean | undefined;

function sameAfter<T>(coerce: (v: unknown) => T | undefined): Equality {
  return (value, other) => {
    const a = coerce(value);
    const b = coerce(other);
    return a === undefined || b === undefined ? undefined : a === b;
  };
}

function equalityFor(fieldType: FieldType): Equality {
  switch (fieldType) {
    case 'FIELD_TYPE_NUMERIC': return sameAfter(toNumber);
    case 'FIELD_TYPE_TEXT': return sameAfter(toText);
    case 'FIELD_TYPE_BOOLEAN': return sameAfter(toBoolean);
    default: return looseEquals;
  }
}

function fromBoolean(result: boolean | undefined): ComparisonOutcome {
  if (result === undefined) return 'coercion-failed';
  return result ? 'true' : 'false';
}

function numeric(test: (a: number, b: number) => boolean): Comparator {
  return (value, other) => {
    const a = toNumber(value);
    const b = toNumber(other);
    if (a === undefined || b === undefined) return 'coercion-failed';
    return test(a, b) ? 'true' : 'false';
  };
}

function textual(test: (a: string, b: string) => boolean): Comparator {
  return (value, other) => {
    const a = toText(value);
    const b = toText(other);
    if (a === undefined || b === undefined) return 'coercion-failed';
    return test(a, b) ? 'true' : 'false';
  };
}

/** Substring of text; on a list value, membership of an element read as text. */
const contains: Comparator = (value, other) => {
  const needle = toText(other);
  if (needle === undefined) return 'coercion-failed';
  if (Array.isArray(value)) {
    for (const element of value) if (toText(element) === needle) return 'true';
    return 'false';
  }
  const text = toText(value);
  if (text === undefined) return 'coercion-failed';
  return text.includes(needle) ? 'true' : 'false';
};

/**
 * IN: the value equals a listed value under the field type's equality. Typed lists are
 * looked up in a Set after one coercion; FIELD_TYPE_ANY compares element by element, and
 * fails coercion only when no element was comparable at all.
 */
function membership(fieldType: FieldType, list: readonly unknown[]): Comparator {
  const typed = fieldType === 'FIELD_TYPE_NUMERIC' ? toNumber
    : fieldType === 'FIELD_TYPE_TEXT' ? toText
      : fieldType === 'FIELD_TYPE_BOOLEAN' ? toBoolean
        : undefined;
  if (typed !== undefined) {
    const set = new Set<unknown>();
    for (const element of list) {
      const coerced = typed(element);
      if (coerced !== undefined && !Number.isNaN(coerced)) set.add(coerced);
    }
    return (value) => {
      const coerced = typed(value);
      if (coerced === undefined) return 'coercion-failed';
      return set.has(coerced) ? 'true' : 'false';
    };
  }
  return (value) => {
    let comparable = false;
    for (const element of list) {
      const equal = looseEquals(value, element);
      if (equal === true) return 'true';
      if (equal === false) comparable = true;
    }
    return comparable ? 'false' : 'coercion-failed';
  };
}

const never: Comparator = () => 'false';

export function compileComparator(op: Operator, fieldType: FieldType, value: ConditionValue | undefined): Comparator {
  switch (op) {
    case 'OPERATOR_EQ': {
      const equal = equalityFor(fieldType);
      return (a, b) => fromBoolean(equal(a, b));
    }
    case 'OPERATOR_NEQ': {
      const equal = equalityFor(fieldType);
      return (a, b) => {
        const result = equal(a, b);
        return fromBoolean(result === undefined ? undefined : !result);
      };
    }
    case 'OPERATOR_LT': return numeric((a, b) => a < b);
    case 'OPERATOR_LTE': return numeric((a, b) => a <= b);
    case 'OPERATOR_GT': return numeric((a, b) => a > b);
    case 'OPERATOR_GTE': return numeric((a, b) => a >= b);
    case 'OPERATOR_PREFIX': return textual((a, b) => a.startsWith(b));
    case 'OPERATOR_SUFFIX': return textual((a, b) => a.endsWith(b));
    case 'OPERATOR_CONTAINS': return contains;
    case 'OPERATOR_IN': {
      const literal = literalOf(value);
      return membership(fieldType, Array.isArray(literal) ? literal : literal === undefined ? [] : [literal]);
    }
    // EXISTS and IS_NULL are decided before any comparison; UNSPECIFIED never passes validation.
    default: return never;
  }
}
