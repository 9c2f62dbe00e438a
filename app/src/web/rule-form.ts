import type {
  Action, Condition, ConditionValue, FieldType, OnCoercionFail, OnMissingField, Operator, OrGroup, RuleState, ScopeTag,
} from '../rules/model.js';
import { parseFieldPathText, PathTextError } from './field-path-text.js';
import { formatFieldPath } from '../rules/field-path.js';

/**
 * The rule editor's form, as plain strings the way the browser posts them. Field names:
 * name, description, state, action, sampleRate, scopeTags, and per condition
 * g<group>.c<condition>.<path|op|fieldType|valueSource|value|onMissingField|onCoercionFail>.
 * Editing the structure (add/remove a row or group) is a submit button named `intent`, so the
 * editor works without JavaScript: the server re-renders the form with the change applied.
 */
export interface ConditionRow {
  path: string;
  op: Operator;
  fieldType: FieldType;
  /** `literal`: compare against `value`; `field`: `value` is the path of another field (field_ref). */
  valueSource: 'literal' | 'field';
  value: string;
  onMissingField: OnMissingField;
  onCoercionFail: OnCoercionFail;
}

export interface RuleFormState {
  name: string;
  description: string;
  state: RuleState;
  action: Action;
  sampleRate: string;
  scopeTags: string;
  groups: ConditionRow[][];
}

export type FormIntent =
  | { kind: 'save' }
  | { kind: 'add-condition'; group: number }
  | { kind: 'remove-condition'; group: number; condition: number }
  | { kind: 'add-group' }
  | { kind: 'remove-group'; group: number };

/** A message for one form field (its input name), a group (`g0`), the groups (`groups`) or the form (''). */
export interface FormIssue {
  field: string;
  message: string;
}

export const OPERATORS: readonly { value: Operator; label: string }[] = [
  { value: 'OPERATOR_EQ', label: 'equals (=)' },
  { value: 'OPERATOR_NEQ', label: 'not equal (≠)' },
  { value: 'OPERATOR_LT', label: 'less than (<)' },
  { value: 'OPERATOR_LTE', label: 'at most (≤)' },
  { value: 'OPERATOR_GT', label: 'greater than (>)' },
  { value: 'OPERATOR_GTE', label: 'at least (≥)' },
  { value: 'OPERATOR_PREFIX', label: 'starts with' },
  { value: 'OPERATOR_SUFFIX', label: 'ends with' },
  { value: 'OPERATOR_CONTAINS', label: 'contains' },
  { value: 'OPERATOR_IN', label: 'is one of (comma-separated)' },
  { value: 'OPERATOR_EXISTS', label: 'exists (no value)' },
  { value: 'OPERATOR_IS_NULL', label: 'is null (no value)' },
];
export const FIELD_TYPES: readonly { value: FieldType; label: string }[] = [
  { value: 'FIELD_TYPE_ANY', label: 'any' },
  { value: 'FIELD_TYPE_TEXT', label: 'text' },
  { value: 'FIELD_TYPE_NUMERIC', label: 'numeric' },
  { value: 'FIELD_TYPE_BOOLEAN', label: 'boolean' },
];
export const ON_MISSING_FIELD: readonly { value: OnMissingField; label: string }[] = [
  { value: 'ON_MISSING_FIELD_SKIP', label: 'skip' },
  { value: 'ON_MISSING_FIELD_MATCH', label: 'match' },
  { value: 'ON_MISSING_FIELD_FAIL', label: 'fail' },
];
export const ON_COERCION_FAIL: readonly { value: OnCoercionFail; label: string }[] = [
  { value: 'ON_COERCION_FAIL_SKIP', label: 'skip' },
  { value: 'ON_COERCION_FAIL_MATCH', label: 'match' },
  { value: 'ON_COERCION_FAIL_FAIL', label: 'fail' },
];
export const RULE_STATES: readonly { value: RuleState; label: string }[] = [
  { value: 'RULE_STATE_DRAFT', label: 'draft' },
  { value: 'RULE_STATE_ACTIVE', label: 'active' },
  { value: 'RULE_STATE_DISABLED', label: 'disabled' },
];
export const ACTIONS: readonly { value: Action; label: string }[] = [
  { value: 'ACTION_OBSERVE', label: 'observe' },
  { value: 'ACTION_DROP', label: 'drop' },
  { value: 'ACTION_FAIL', label: 'fail' },
];

const NO_VALUE_OPERATORS: ReadonlySet<Operator> = new Set(['OPERATOR_EXISTS', 'OPERATOR_IS_NULL']);

export function emptyConditionRow(): ConditionRow {
  return {
    path: '',
    op: 'OPERATOR_EQ',
    fieldType: 'FIELD_TYPE_ANY',
    valueSource: 'literal',
    value: '',
    onMissingField: 'ON_MISSING_FIELD_SKIP',
    onCoercionFail: 'ON_COERCION_FAIL_SKIP',
  };
}

export function emptyRuleForm(): RuleFormState {
  return {
    name: '',
    description: '',
    state: 'RULE_STATE_DRAFT',
    action: 'ACTION_OBSERVE',
    sampleRate: '1',
    scopeTags: '',
    groups: [[emptyConditionRow()]],
  };
}

/**
 * The most the editor holds. Rendering the form costs time per row, so a crafted post with
 * thousands of rows would hold the event loop for seconds; such a post is refused unread.
 */
export const EDITOR_LIMITS = { groups: 64, conditionsPerGroup: 64, conditions: 256 } as const;

/** A posted editor form with more groups or conditions than EDITOR_LIMITS allows. */
export class RuleFormTooLargeError extends Error {
  override name = 'RuleFormTooLargeError';
}

export const conditionField = (group: number, condition: number, part: keyof ConditionRow | '') =>
  part === '' ? `g${group}.c${condition}` : `g${group}.c${condition}.${part}`;

// ---------------------------------------------------------------------------------------
// Posted body -> form state

type Body = Record<string, unknown>;

function text(body: Body, key: string): string {
  const value = body[key];
  if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : '';
  return typeof value === 'string' ? value : '';
}

function choice<T extends string>(body: Body, key: string, options: readonly { value: T }[], fallback: T): T {
  const value = text(body, key);
  return options.find((option) => option.value === value)?.value ?? fallback;
}

/**
 * Reads the posted editor form. Unknown or missing select values fall back to defaults.
 * Throws RuleFormTooLargeError, before reading any row, when the post exceeds EDITOR_LIMITS.
 */
export function readRuleForm(body: Body): RuleFormState {
  const defaults = emptyConditionRow();
  const rows = new Map<number, Map<number, ConditionRow>>();
  const rowKeys: [number, number][] = [];
  for (const key of Object.keys(body)) {
    const match = /^g(\d{1,3})\.c(\d{1,3})\.path$/.exec(key);
    if (match) rowKeys.push([Number(match[1]), Number(match[2])]);
  }
  const tooLarge = rowKeys.length > EDITOR_LIMITS.conditions
    || rowKeys.some(([group, condition]) => group >= EDITOR_LIMITS.groups || condition >= EDITOR_LIMITS.conditionsPerGroup);
  if (tooLarge) {
    throw new RuleFormTooLargeError(
      `The form holds ${rowKeys.length} conditions; the editor takes at most ${EDITOR_LIMITS.conditions} in all, `
      + `in at most ${EDITOR_LIMITS.groups} groups of at most ${EDITOR_LIMITS.conditionsPerGroup}. Nothing was saved.`,
    );
  }
  for (const [group, condition] of rowKeys) {
    const at = (part: keyof ConditionRow) => conditionField(group, condition, part);
    const row: ConditionRow = {
      path: text(body, at('path')),
      op: choice(body, at('op'), OPERATORS, defaults.op),
      fieldType: choice(body, at('fieldType'), FIELD_TYPES, defaults.fieldType),
      valueSource: text(body, at('valueSource')) === 'field' ? 'field' : 'literal',
      value: text(body, at('value')),
      onMissingField: choice(body, at('onMissingField'), ON_MISSING_FIELD, defaults.onMissingField),
      onCoercionFail: choice(body, at('onCoercionFail'), ON_COERCION_FAIL, defaults.onCoercionFail),
    };
    if (!rows.has(group)) rows.set(group, new Map());
    rows.get(group)?.set(condition, row);
  }
  // Groups that lost all their rows still post a g<n> marker so they survive a re-render.
  for (const key of Object.keys(body)) {
    const match = /^g(\d{1,2})$/.exec(key);
    if (match && Number(match[1]) < EDITOR_LIMITS.groups && !rows.has(Number(match[1]))) rows.set(Number(match[1]), new Map());
  }
  const groups = [...rows.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, conditions]) => [...conditions.entries()].sort(([a], [b]) => a - b).map(([, row]) => row));

  return {
    name: text(body, 'name'),
    description: text(body, 'description'),
    state: choice(body, 'state', RULE_STATES, 'RULE_STATE_DRAFT'),
    action: choice(body, 'action', ACTIONS, 'ACTION_OBSERVE'),
    sampleRate: text(body, 'sampleRate'),
    scopeTags: text(body, 'scopeTags'),
    groups,
  };
}

export function readIntent(body: Body): FormIntent {
  const intent = text(body, 'intent');
  let match = /^add-condition:(\d{1,3})$/.exec(intent);
  if (match) return { kind: 'add-condition', group: Number(match[1]) };
  match = /^remove-condition:(\d{1,3}):(\d{1,3})$/.exec(intent);
  if (match) return { kind: 'remove-condition', group: Number(match[1]), condition: Number(match[2]) };
  match = /^remove-group:(\d{1,3})$/.exec(intent);
  if (match) return { kind: 'remove-group', group: Number(match[1]) };
  if (intent === 'add-group') return { kind: 'add-group' };
  return { kind: 'save' };
}

function conditionCount(groups: ConditionRow[][]): number {
  return groups.reduce((sum, rows) => sum + rows.length, 0);
}

/** The form after a structural edit; rows are bounded so a crafted post cannot grow it without limit. */
export function applyIntent(form: RuleFormState, intent: FormIntent): RuleFormState {
  const groups = form.groups.map((rows) => [...rows]);
  switch (intent.kind) {
    case 'add-condition':
      if (groups[intent.group] && (groups[intent.group]?.length ?? 0) < EDITOR_LIMITS.conditionsPerGroup && conditionCount(groups) < EDITOR_LIMITS.conditions) {
        groups[intent.group]?.push(emptyConditionRow());
      }
      break;
    case 'remove-condition':
      groups[intent.group]?.splice(intent.condition, 1);
      break;
    case 'add-group':
      if (groups.length < EDITOR_LIMITS.groups && conditionCount(groups) < EDITOR_LIMITS.conditions) groups.push([emptyConditionRow()]);
      break;
    case 'remove-group':
      groups.splice(intent.group, 1);
      break;
    case 'save':
      break;
  }
  return { ...form, groups };
}

// ---------------------------------------------------------------------------------------
// Form state -> rule input (the proto3 JSON shape parseRuleInput validates)

export interface RuleInput {
  name: string;
  description: string;
  state: RuleState;
  action: Action;
  sampleRate: number;
  scopeTags: ScopeTag[];
  orGroups: { groupIndex: number; conditions: Partial<Condition>[] }[];
}

function parseNumber(raw: string): number | undefined {
  const trimmed = raw.trim();
  if (trimmed === '') return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}

function parseList(raw: string): string[] {
  const trimmed = raw.trim();
  if (trimmed.startsWith('[')) {
    const parsed: unknown = JSON.parse(trimmed);
    if (!Array.isArray(parsed)) throw new Error('not a list');
    return parsed.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
  }
  if (trimmed === '') return [];
  return trimmed.split(',').map((item) => item.trim());
}

function literalValue(row: ConditionRow): ConditionValue | string {
  if (row.op === 'OPERATOR_IN') {
    let items: string[];
    try {
      items = parseList(row.value);
    } catch {
      return 'write the list as a, b, c or as a JSON array like ["a,1", "b"]';
    }
    const numbers = items.map(parseNumber);
    const allNumeric = items.length > 0 && numbers.every((n) => n !== undefined);
    if (row.fieldType === 'FIELD_TYPE_NUMERIC') {
      if (!allNumeric) return 'numeric fields need a list of numbers, e.g. 1, 2.5, 10';
      return { numericArray: { values: numbers as number[] } };
    }
    if (row.fieldType === 'FIELD_TYPE_ANY' && allNumeric) return { numericArray: { values: numbers as number[] } };
    return { stringArray: { values: items } };
  }
  const raw = row.value;
  switch (row.fieldType) {
    case 'FIELD_TYPE_NUMERIC': {
      const n = parseNumber(raw);
      return n === undefined ? 'enter a number, e.g. 42 or 0.5' : { numericValue: n };
    }
    case 'FIELD_TYPE_BOOLEAN': {
      const word = raw.trim().toLowerCase();
      if (word === 'true' || word === 'false') return { booleanValue: word === 'true' };
      return 'enter true or false';
    }
    case 'FIELD_TYPE_ANY': {
      const word = raw.trim();
      if (word === 'true' || word === 'false') return { booleanValue: word === 'true' };
      if (word === 'null') return { nullValue: 'NULL_VALUE_UNSPECIFIED' };
      const n = parseNumber(word);
      return n === undefined ? { stringValue: raw } : { numericValue: n };
    }
    default:
      return { stringValue: raw };
  }
}

/**
 * Maps the form to the input parseRuleInput validates, with issues for what the form itself
 * cannot express (an unreadable path, a non-number for a numeric field). Semantic checks
 * (lengths, ranges, limits) are left to the validator so they live in one place.
 */
export function formToRuleInput(form: RuleFormState): { input: RuleInput; issues: FormIssue[] } {
  const issues: FormIssue[] = [];
  const sampleRate = parseNumber(form.sampleRate);
  if (sampleRate === undefined) issues.push({ field: 'sampleRate', message: 'enter a number from 0 to 1, e.g. 0.25' });

  const scopeTags: ScopeTag[] = [];
  for (const entry of form.scopeTags.split(',').map((part) => part.trim()).filter(Boolean)) {
    const equals = entry.indexOf('=');
    if (equals <= 0) {
      issues.push({ field: 'scopeTags', message: `"${entry}" is not key=value; write tags like env=prod, team=payments` });
      continue;
    }
    scopeTags.push({ key: entry.slice(0, equals).trim(), value: entry.slice(equals + 1).trim() });
  }

  const orGroups = form.groups.map((rows, group) => ({
    groupIndex: group,
    conditions: rows.map((row, index) => {
      const field = (part: keyof ConditionRow) => conditionField(group, index, part);
      const condition: Partial<Condition> = {
        op: row.op,
        fieldType: row.fieldType,
        onMissingField: row.onMissingField,
        onCoercionFail: row.onCoercionFail,
      };
      try {
        condition.fieldPath = parseFieldPathText(row.path);
      } catch (error) {
        if (!(error instanceof PathTextError)) throw error;
        issues.push({ field: field('path'), message: error.message });
      }
      if (NO_VALUE_OPERATORS.has(row.op)) return condition;
      if (row.valueSource === 'field') {
        try {
          condition.fieldRef = parseFieldPathText(row.value);
        } catch (error) {
          if (!(error instanceof PathTextError)) throw error;
          issues.push({ field: field('value'), message: `the other field's path: ${error.message}` });
        }
        return condition;
      }
      const value = literalValue(row);
      if (typeof value === 'string') issues.push({ field: field('value'), message: value });
      else condition.value = value;
      return condition;
    }),
  }));

  return {
    input: {
      name: form.name.trim(),
      description: form.description.trim(),
      state: form.state,
      action: form.action,
      sampleRate: sampleRate ?? Number.NaN,
      scopeTags,
      orGroups,
    },
    issues,
  };
}

// ---------------------------------------------------------------------------------------
// Rule -> form state (for editing)

function valueText(value: ConditionValue | undefined): string {
  if (!value) return '';
  if ('stringValue' in value) return value.stringValue;
  if ('numericValue' in value) return String(value.numericValue);
  if ('booleanValue' in value) return String(value.booleanValue);
  if ('nullValue' in value) return 'null';
  const items = 'stringArray' in value ? value.stringArray.values : value.numericArray.values.map(String);
  const plain = items.every((item) => item !== '' && !item.includes(',') && item.trim() === item) && !items[0]?.startsWith('[');
  return plain ? items.join(', ') : JSON.stringify(items);
}

export function ruleToForm(rule: {
  name: string; description: string; state: RuleState; action: Action; sampleRate: number;
  scopeTags: ScopeTag[]; orGroups: OrGroup[];
}): RuleFormState {
  return {
    name: rule.name,
    description: rule.description,
    state: rule.state,
    action: rule.action,
    sampleRate: String(rule.sampleRate),
    scopeTags: rule.scopeTags.map((tag) => `${tag.key}=${tag.value}`).join(', '),
    groups: rule.orGroups.map((group) =>
      group.conditions.map((condition) => ({
        path: formatFieldPath(condition.fieldPath),
        op: condition.op,
        fieldType: condition.fieldType,
        valueSource: condition.fieldRef ? 'field' : 'literal',
        value: condition.fieldRef ? formatFieldPath(condition.fieldRef) : valueText(condition.value),
        onMissingField: condition.onMissingField,
        onCoercionFail: condition.onCoercionFail,
      })),
    ),
  };
}

// ---------------------------------------------------------------------------------------
// Validator issues -> form fields

const CONDITION_PARTS: Record<string, keyof ConditionRow> = {
  fieldPath: 'path',
  op: 'op',
  value: 'value',
  fieldRef: 'value',
  fieldType: 'fieldType',
  onMissingField: 'onMissingField',
  onCoercionFail: 'onCoercionFail',
};
const TOP_LEVEL_FIELDS = ['name', 'description', 'state', 'action', 'sampleRate', 'scopeTags'];

/** Places a validator issue path (`orGroups[0].conditions[1].value`, `name`, ...) on the form field it concerns. */
export function issueField(path: string): string {
  const condition = /^orGroups[[.](\d+)\]?\.conditions[[.](\d+)\]?(?:\.(\w+))?/.exec(path);
  if (condition) {
    const part = condition[3] ? CONDITION_PARTS[condition[3]] : undefined;
    return conditionField(Number(condition[1]), Number(condition[2]), part ?? '');
  }
  const group = /^orGroups[[.](\d+)\]?/.exec(path);
  if (group) return `g${group[1]}`;
  if (path.startsWith('orGroups')) return 'groups';
  const top = /^(\w+)/.exec(path)?.[1] ?? '';
  return TOP_LEVEL_FIELDS.includes(top) ? top : '';
}
