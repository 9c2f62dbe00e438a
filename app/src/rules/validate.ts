/**
 * Turns rule input (the proto3 JSON mapping of trapperkeeper.sensor.v1.Rule plus
 * `description`, as sent by the web UI or written in a rules file) into a complete NewRule,
 * or refuses it with every problem and the path where it occurs.
 *
 * Defaults, filled in when a field is absent, null, or (for enums) its UNSPECIFIED zero value,
 * as proto3 treats those alike: see RULE_DEFAULTS. Two exceptions: `op` has no default (it
 * is required), and `sampleRate: 0` is kept as given ("never evaluate"); only an absent
 * sampleRate becomes 1. `groupIndex` may be left out; when given it must equal the group's
 * position. `ruleId` and `createdAt` are refused: the server assigns them.
 */
import { UserError } from '../errors.js';
import { ACTIONS, FIELD_TYPES, ON_COERCION_FAIL, ON_MISSING_FIELD, OPERATORS, RULE_STATES } from './enum-names.js';
import type {
  Condition, ConditionValue, FieldPath, FieldType, Operator, OrGroup, PathSegment, Rule, ScopeTag,
} from './model.js';
import {
  childPath, describeValue, isJsonObject, readBoolean, readDouble, readEnum, readInt32, readList, readMessage,
  readString, type ProtoObject, type ValidationIssue,
} from './proto-json.js';
import { RULE_DEFAULTS, RULE_LIMITS } from './rule-defaults.js';

export type { ValidationIssue } from './proto-json.js';

/** A rule as people write it: everything but the server-assigned id and creation time. */
export type NewRule = Omit<Rule, 'ruleId' | 'createdAt'>;

export function formatIssue(issue: ValidationIssue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}

export class RuleValidationError extends UserError {
  constructor(
    /** The rule's name when the input had one, for messages. */
    readonly ruleName: string | undefined,
    readonly issues: ValidationIssue[],
  ) {
    const rule = ruleName === undefined ? 'Rule' : `Rule ${JSON.stringify(ruleName)}`;
    super(
      `${rule} is invalid: ${issues.map(formatIssue).join('; ')}`,
      'Correct the fields listed. A rule is the proto3 JSON mapping of trapperkeeper.sensor.v1.Rule '
        + '(lowerCamelCase fields, enums by name) plus an optional description.',
    );
    this.name = 'RuleValidationError';
  }
}

export function parseRuleInput(input: unknown): NewRule {
  const issues: ValidationIssue[] = [];
  const rule = readRule(input, issues);
  if (rule === undefined || issues.length > 0) throw new RuleValidationError(nameForMessages(input), issues);
  return rule;
}

function nameForMessages(input: unknown): string | undefined {
  if (!isJsonObject(input) || typeof input.name !== 'string' || input.name.trim() === '') return undefined;
  const chars = [...input.name];
  return chars.length > 60 ? `${chars.slice(0, 57).join('')}...` : input.name;
}

const RULE_FIELDS = ['name', 'description', 'state', 'action', 'orGroups', 'sampleRate', 'scopeTags'];
const GROUP_FIELDS = ['groupIndex', 'conditions'];
const CONDITION_FIELDS = ['fieldPath', 'op', 'value', 'fieldType', 'onMissingField', 'onCoercionFail', 'fieldRef'];
const VALUE_FIELDS = ['stringValue', 'numericValue', 'booleanValue', 'nullValue', 'stringArray', 'numericArray'] as const;
const SEGMENT_FIELDS = ['fieldName', 'arrayIndex', 'wildcard'] as const;

type ValueKind = (typeof VALUE_FIELDS)[number];

function charCount(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

function orDefault<Name extends string, Fallback extends Name>(value: Name | undefined, zero: Name, fallback: Fallback): Name {
  return value === undefined || value === zero ? fallback : value;
}

function readRule(input: unknown, issues: ValidationIssue[]): NewRule | undefined {
  const message = readMessage(input, '', RULE_FIELDS, issues);
  if (message === undefined) return undefined;
  const name = readName(message.name, issues);
  const description = readString(message.description, 'description', issues) ?? RULE_DEFAULTS.description;
  if (charCount(description) > RULE_LIMITS.descriptionMaxChars) {
    issues.push({ path: 'description', message: `must be at most ${RULE_LIMITS.descriptionMaxChars} characters, has ${charCount(description)}` });
  }
  const state = orDefault(readEnum(message.state, 'state', RULE_STATES, issues), 'RULE_STATE_UNSPECIFIED', RULE_DEFAULTS.state);
  const action = orDefault(readEnum(message.action, 'action', ACTIONS, issues), 'ACTION_UNSPECIFIED', RULE_DEFAULTS.action);
  const orGroups = readGroups(message.orGroups, 'orGroups', issues);
  const sampleRate = readDouble(message.sampleRate, 'sampleRate', issues) ?? RULE_DEFAULTS.sampleRate;
  if (sampleRate < 0 || sampleRate > 1) {
    issues.push({ path: 'sampleRate', message: `must be between 0 and 1 (the share of events evaluated), got ${sampleRate}` });
  }
  const scopeTags = readScopeTags(message.scopeTags, 'scopeTags', issues);
  return { name, description, state, action, orGroups, sampleRate, scopeTags };
}

function readName(value: unknown, issues: ValidationIssue[]): string {
  if (value === undefined) {
    issues.push({ path: 'name', message: 'is required' });
    return '';
  }
  const name = readString(value, 'name', issues);
  if (name === undefined) return '';
  const length = charCount(name);
  if (length === 0 || length > RULE_LIMITS.nameMaxChars) {
    issues.push({ path: 'name', message: `must be 1 to ${RULE_LIMITS.nameMaxChars} characters, has ${length}` });
  } else if (name.trim() !== name) {
    issues.push({ path: 'name', message: 'must not start or end with spaces' });
  } else if (/\p{Cc}/u.test(name)) {
    issues.push({ path: 'name', message: 'must not contain control characters such as newlines or tabs' });
  }
  return name;
}

function readScopeTags(value: unknown, path: string, issues: ValidationIssue[]): ScopeTag[] {
  const list = readList(value, path, issues) ?? [];
  const tags: ScopeTag[] = [];
  const seen = new Map<string, number>();
  list.forEach((item, index) => {
    const tagPath = childPath(path, index);
    const message = readMessage(item, tagPath, ['key', 'value'], issues);
    if (message === undefined) return;
    const key = readRequiredText(message.key, childPath(tagPath, 'key'), issues);
    const tagValue = readRequiredText(message.value, childPath(tagPath, 'value'), issues);
    if (key === undefined || tagValue === undefined) return;
    if (key.includes('=')) {
      issues.push({ path: childPath(tagPath, 'key'), message: 'must not contain "=": sensors send tags as key=value' });
    }
    const identity = JSON.stringify([key, tagValue]);
    const first = seen.get(identity);
    if (first !== undefined) issues.push({ path: tagPath, message: `repeats ${childPath(path, first)}` });
    else seen.set(identity, index);
    tags.push({ key, value: tagValue });
  });
  return tags;
}

function readRequiredText(value: unknown, path: string, issues: ValidationIssue[]): string | undefined {
  const text = readString(value, path, issues);
  if (value === undefined || text === '') {
    issues.push({ path, message: 'is required and must not be empty' });
    return undefined;
  }
  return text;
}

function readGroups(value: unknown, path: string, issues: ValidationIssue[]): OrGroup[] {
  if (value === undefined) {
    issues.push({ path, message: 'is required: give at least one group of conditions' });
    return [];
  }
  const list = readList(value, path, issues);
  if (list === undefined) return [];
  if (list.length === 0) issues.push({ path, message: 'must hold at least one group: a rule without groups would never match' });
  return list.map((group, position) => readGroup(group, childPath(path, position), position, issues));
}

function readGroup(input: unknown, path: string, position: number, issues: ValidationIssue[]): OrGroup {
  const message = readMessage(input, path, GROUP_FIELDS, issues);
  const group: OrGroup = { groupIndex: position, conditions: [] };
  if (message === undefined) return group;
  const indexPath = childPath(path, 'groupIndex');
  const groupIndex = readInt32(message.groupIndex, indexPath, issues);
  if (groupIndex !== undefined && groupIndex !== position) {
    issues.push({ path: indexPath, message: `must equal the group's position, ${position}, or be left out` });
  }
  const conditionsPath = childPath(path, 'conditions');
  if (message.conditions === undefined) {
    issues.push({ path: conditionsPath, message: 'is required: give at least one condition' });
    return group;
  }
  const list = readList(message.conditions, conditionsPath, issues) ?? [];
  if (Array.isArray(message.conditions) && list.length === 0) {
    issues.push({ path: conditionsPath, message: 'must hold at least one condition: an empty group is not allowed' });
  }
  list.forEach((condition, index) => {
    const read = readCondition(condition, childPath(conditionsPath, index), issues);
    if (read !== undefined) group.conditions.push(read);
  });
  return group;
}

function readCondition(input: unknown, path: string, issues: ValidationIssue[]): Condition | undefined {
  const message = readMessage(input, path, CONDITION_FIELDS, issues);
  if (message === undefined) return undefined;
  const at = (field: string) => childPath(path, field);

  if (message.fieldPath === undefined) issues.push({ path: at('fieldPath'), message: 'is required' });
  const fieldPath = message.fieldPath === undefined ? undefined : readFieldPath(message.fieldPath, at('fieldPath'), 'fieldPath', issues);
  const op = readEnum(message.op, at('op'), OPERATORS, issues);
  if (message.op === undefined || op === 'OPERATOR_UNSPECIFIED') {
    issues.push({ path: at('op'), message: `is required: one of ${OPERATORS.slice(1).join(', ')}` });
  }
  const fieldType = orDefault(readEnum(message.fieldType, at('fieldType'), FIELD_TYPES, issues), 'FIELD_TYPE_UNSPECIFIED', RULE_DEFAULTS.fieldType);
  const value = message.value === undefined ? undefined : readConditionValue(message.value, at('value'), issues);
  const fieldRef = message.fieldRef === undefined ? undefined : readFieldPath(message.fieldRef, at('fieldRef'), 'fieldRef', issues);
  if (op !== undefined && op !== 'OPERATOR_UNSPECIFIED') checkOperands(op, fieldType, message, value, at, issues);

  const condition: Condition = {
    fieldPath: fieldPath ?? { segments: [] },
    op: op ?? 'OPERATOR_UNSPECIFIED',
    fieldType,
    onMissingField: orDefault(readEnum(message.onMissingField, at('onMissingField'), ON_MISSING_FIELD, issues), 'ON_MISSING_FIELD_UNSPECIFIED', RULE_DEFAULTS.onMissingField),
    onCoercionFail: orDefault(readEnum(message.onCoercionFail, at('onCoercionFail'), ON_COERCION_FAIL, issues), 'ON_COERCION_FAIL_UNSPECIFIED', RULE_DEFAULTS.onCoercionFail),
  };
  if (value !== undefined) condition.value = value;
  if (fieldRef !== undefined) condition.fieldRef = fieldRef;
  return condition;
}

type OperatorClass = 'equality' | 'ordering' | 'text' | 'membership' | 'presence';

const OPERATOR_CLASS: Record<Exclude<Operator, 'OPERATOR_UNSPECIFIED'>, OperatorClass> = {
  OPERATOR_EQ: 'equality', OPERATOR_NEQ: 'equality',
  OPERATOR_LT: 'ordering', OPERATOR_LTE: 'ordering', OPERATOR_GT: 'ordering', OPERATOR_GTE: 'ordering',
  OPERATOR_PREFIX: 'text', OPERATOR_SUFFIX: 'text', OPERATOR_CONTAINS: 'text',
  OPERATOR_IN: 'membership',
  OPERATOR_EXISTS: 'presence', OPERATOR_IS_NULL: 'presence',
};

/** For each operator class, the field types it works with and the literal values each takes. */
const LITERAL_KINDS: Record<Exclude<OperatorClass, 'presence'>, Partial<Record<FieldType, readonly ValueKind[]>>> = {
  equality: {
    FIELD_TYPE_NUMERIC: ['numericValue'],
    FIELD_TYPE_TEXT: ['stringValue'],
    FIELD_TYPE_BOOLEAN: ['booleanValue'],
    FIELD_TYPE_ANY: ['stringValue', 'numericValue', 'booleanValue'],
  },
  ordering: { FIELD_TYPE_NUMERIC: ['numericValue'], FIELD_TYPE_ANY: ['numericValue'] },
  text: { FIELD_TYPE_TEXT: ['stringValue'], FIELD_TYPE_ANY: ['stringValue'] },
  membership: {
    FIELD_TYPE_NUMERIC: ['numericArray'],
    FIELD_TYPE_TEXT: ['stringArray'],
    FIELD_TYPE_ANY: ['stringArray', 'numericArray'],
  },
};

function valueKind(value: ConditionValue): ValueKind {
  return VALUE_FIELDS.find((kind) => kind in value) ?? 'nullValue';
}

function checkOperands(
  op: Exclude<Operator, 'OPERATOR_UNSPECIFIED'>,
  fieldType: FieldType,
  message: ProtoObject,
  value: ConditionValue | undefined,
  at: (field: string) => string,
  issues: ValidationIssue[],
): void {
  const hasValue = message.value !== undefined;
  const hasRef = message.fieldRef !== undefined;
  const operatorClass = OPERATOR_CLASS[op];
  if (operatorClass === 'presence') {
    const why = `must be left out: ${op} only checks whether the field is there`;
    if (hasValue) issues.push({ path: at('value'), message: why });
    if (hasRef) issues.push({ path: at('fieldRef'), message: why });
    return;
  }
  const byType = LITERAL_KINDS[operatorClass];
  const kinds = byType[fieldType];
  if (kinds === undefined) {
    issues.push({ path: at('fieldType'), message: `${op} works with ${Object.keys(byType).join(' or ')}, not ${fieldType}` });
  }
  if (operatorClass === 'membership') {
    if (hasRef) issues.push({ path: at('fieldRef'), message: `must be left out: ${op} compares with the list in value` });
    if (!hasValue) issues.push({ path: at('value'), message: `is required: ${op} needs a list, value.stringArray or value.numericArray` });
  } else if (hasValue && hasRef) {
    issues.push({ path: at('value'), message: 'cannot be given together with fieldRef: compare with one or the other' });
  } else if (!hasValue && !hasRef) {
    issues.push({ path: at('value'), message: `is required for ${op}: give value, or fieldRef to compare with another field` });
  }
  if (value === undefined || kinds === undefined) return;
  const kind = valueKind(value);
  if (kind === 'nullValue') {
    issues.push({ path: at('value'), message: 'a null value cannot be compared (null fields go to onMissingField): use OPERATOR_IS_NULL or OPERATOR_EXISTS' });
  } else if (!kinds.includes(kind)) {
    issues.push({ path: at('value'), message: `${op} with ${fieldType} needs ${kinds.map((k) => `value.${k}`).join(' or ')}, got value.${kind}` });
  }
}

function readConditionValue(input: unknown, path: string, issues: ValidationIssue[]): ConditionValue | undefined {
  const message = readMessage(input, path, VALUE_FIELDS, issues, ['nullValue']);
  if (message === undefined) return undefined;
  const given = VALUE_FIELDS.filter((kind) => message[kind] !== undefined);
  const kind = given[0];
  if (kind === undefined || given.length > 1) {
    const problem = kind === undefined ? 'none is set' : `${given.join(' and ')} are set`;
    issues.push({ path, message: `must set exactly one of ${VALUE_FIELDS.join(', ')} (${problem})` });
    return undefined;
  }
  const at = childPath(path, kind);
  const raw = message[kind];
  switch (kind) {
    case 'stringValue': {
      const stringValue = readString(raw, at, issues);
      return stringValue === undefined ? undefined : { stringValue };
    }
    case 'numericValue': {
      const numericValue = readDouble(raw, at, issues);
      return numericValue === undefined ? undefined : { numericValue };
    }
    case 'booleanValue': {
      const booleanValue = readBoolean(raw, at, issues);
      return booleanValue === undefined ? undefined : { booleanValue };
    }
    case 'nullValue':
      if (raw === null || raw === 'NULL_VALUE_UNSPECIFIED' || raw === 0) return { nullValue: 'NULL_VALUE_UNSPECIFIED' };
      issues.push({ path: at, message: `must be NULL_VALUE_UNSPECIFIED, got ${describeValue(raw)}` });
      return undefined;
    case 'stringArray': {
      const values = readValueList(raw, at, readString, issues);
      return values === undefined ? undefined : { stringArray: { values } };
    }
    case 'numericArray': {
      const values = readValueList(raw, at, readDouble, issues);
      return values === undefined ? undefined : { numericArray: { values } };
    }
  }
}

function readValueList<T>(
  input: unknown,
  path: string,
  readOne: (value: unknown, path: string, issues: ValidationIssue[]) => T | undefined,
  issues: ValidationIssue[],
): T[] | undefined {
  const message = readMessage(input, path, ['values'], issues);
  if (message === undefined) return undefined;
  const valuesPath = childPath(path, 'values');
  const list = message.values === undefined ? [] : readList(message.values, valuesPath, issues);
  if (list === undefined) return undefined;
  if (list.length === 0 || list.length > RULE_LIMITS.inMaxValues) {
    issues.push({ path: valuesPath, message: `must hold 1 to ${RULE_LIMITS.inMaxValues} values, has ${list.length}` });
  }
  const values: T[] = [];
  list.forEach((item, index) => {
    const itemPath = childPath(valuesPath, index);
    const read = item === undefined ? undefined : readOne(item, itemPath, issues);
    if (read !== undefined) values.push(read);
  });
  return values;
}

function readFieldPath(input: unknown, path: string, role: 'fieldPath' | 'fieldRef', issues: ValidationIssue[]): FieldPath | undefined {
  const message = readMessage(input, path, ['segments'], issues);
  if (message === undefined) return undefined;
  const segmentsPath = childPath(path, 'segments');
  const list = message.segments === undefined ? [] : readList(message.segments, segmentsPath, issues);
  if (list === undefined) return undefined;
  if (list.length === 0 || list.length > RULE_LIMITS.pathMaxSegments) {
    issues.push({ path: segmentsPath, message: `must hold 1 to ${RULE_LIMITS.pathMaxSegments} segments, has ${list.length}` });
  }
  const segments: PathSegment[] = [];
  let wildcards = 0;
  list.forEach((item, index) => {
    const segmentPath = childPath(segmentsPath, index);
    const segment = readSegment(item, segmentPath, issues);
    if (segment === undefined) return;
    if ('wildcard' in segment) {
      wildcards += 1;
      if (role === 'fieldRef') {
        issues.push({ path: childPath(segmentPath, 'wildcard'), message: 'is not allowed in fieldRef: it must name a single value' });
      }
    }
    segments.push(segment);
  });
  if (role === 'fieldPath' && wildcards > RULE_LIMITS.pathMaxWildcards) {
    issues.push({ path: segmentsPath, message: `has ${wildcards} wildcards, at most ${RULE_LIMITS.pathMaxWildcards} are allowed` });
  }
  return { segments };
}

function readSegment(input: unknown, path: string, issues: ValidationIssue[]): PathSegment | undefined {
  const message = readMessage(input, path, SEGMENT_FIELDS, issues);
  if (message === undefined) return undefined;
  const given = SEGMENT_FIELDS.filter((kind) => message[kind] !== undefined);
  const kind = given[0];
  if (kind === undefined || given.length > 1) {
    const problem = kind === undefined ? 'none is set' : `${given.join(' and ')} are set`;
    issues.push({ path, message: `must set exactly one of ${SEGMENT_FIELDS.join(', ')} (${problem})` });
    return undefined;
  }
  const at = childPath(path, kind);
  switch (kind) {
    case 'fieldName': {
      const fieldName = readString(message.fieldName, at, issues);
      if (fieldName === '') issues.push({ path: at, message: 'must not be empty' });
      return fieldName === undefined ? undefined : { fieldName };
    }
    case 'arrayIndex': {
      const arrayIndex = readInt32(message.arrayIndex, at, issues);
      if (arrayIndex !== undefined && arrayIndex < 0) issues.push({ path: at, message: `must not be negative, got ${arrayIndex}` });
      return arrayIndex === undefined ? undefined : { arrayIndex };
    }
    case 'wildcard':
      return readMessage(message.wildcard, at, [], issues) === undefined ? undefined : { wildcard: {} };
  }
}
