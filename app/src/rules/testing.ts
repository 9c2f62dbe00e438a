/** Builders shared by the rule engine's tests. Not part of the engine's API. */
import type { Condition, ConditionValue, FieldPath, OrGroup, Rule } from './model.js';
import type { NewRule } from './validate.js';

/** `path('readings', '*', 'temp')`: names, numbers as array indexes, '*' as a wildcard. */
export function path(...parts: (string | number)[]): FieldPath {
  return {
    segments: parts.map((part) => {
      if (typeof part === 'number') return { arrayIndex: part };
      if (part === '*') return { wildcard: {} };
      return { fieldName: part };
    }),
  };
}

export function condition(fields: Partial<Condition> & { op: Condition['op'] }): Condition {
  return {
    fieldPath: path('f'),
    fieldType: 'FIELD_TYPE_ANY',
    onMissingField: 'ON_MISSING_FIELD_SKIP',
    onCoercionFail: 'ON_COERCION_FAIL_SKIP',
    ...fields,
  };
}

export function groups(...conditionLists: Condition[][]): OrGroup[] {
  return conditionLists.map((conditions, groupIndex) => ({ groupIndex, conditions }));
}

export function rule(orGroups: OrGroup[], sampleRate = 1): Pick<Rule, 'orGroups' | 'sampleRate'> {
  return { orGroups, sampleRate };
}

export const num = (numericValue: number): ConditionValue => ({ numericValue });
export const str = (stringValue: string): ConditionValue => ({ stringValue });
export const bool = (booleanValue: boolean): ConditionValue => ({ booleanValue });
export const strings = (...values: string[]): ConditionValue => ({ stringArray: { values } });
export const numbers = (...values: number[]): ConditionValue => ({ numericArray: { values } });

/** A complete valid NewRule with one condition `f > 10`, to vary in tests. */
export function newRule(name: string, overrides: Partial<NewRule> = {}): NewRule {
  return {
    name,
    description: '',
    state: 'RULE_STATE_DRAFT',
    action: 'ACTION_OBSERVE',
    orGroups: groups([condition({ op: 'OPERATOR_GT', value: num(10) })]),
    sampleRate: 1,
    scopeTags: [],
    ...overrides,
  };
}

/** A NewRule as the server would hold it. */
export function stored(rule: NewRule, ruleId: string): Rule {
  return { ...rule, ruleId, createdAt: '2025-01-02T03:04:05.000Z' };
}

/** A deterministic uniform [0, 1) source (mulberry32), for sampling tests. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
