import type { Condition, ConditionValue, Rule } from '../../rules/model.js';
import { formatFieldPath } from '../../rules/field-path.js';
import { FIELD_TYPES, ON_COERCION_FAIL, ON_MISSING_FIELD, OPERATORS } from '../rule-form.js';

/** Human wording of rule parts, shared by the list, detail and try pages. */
export function stateLabel(state: Rule['state']): string {
  return state.replace('RULE_STATE_', '').toLowerCase();
}

export function actionLabel(action: Rule['action']): string {
  return action.replace('ACTION_', '').toLowerCase();
}

function labelOf<T extends string>(options: readonly { value: T; label: string }[], value: T): string {
  return options.find((option) => option.value === value)?.label ?? value;
}

export function valueText(value: ConditionValue | undefined): string {
  if (!value) return '';
  if ('stringValue' in value) return JSON.stringify(value.stringValue);
  if ('numericValue' in value) return String(value.numericValue);
  if ('booleanValue' in value) return String(value.booleanValue);
  if ('nullValue' in value) return 'null';
  if ('stringArray' in value) return `[${value.stringArray.values.map((v) => JSON.stringify(v)).join(', ')}]`;
  return `[${value.numericArray.values.join(', ')}]`;
}

export function conditionText(condition: Condition): string {
  const subject = formatFieldPath(condition.fieldPath);
  const op = labelOf(OPERATORS, condition.op).replace(/ \(.*\)$/, '');
  const target = condition.fieldRef ? `field ${formatFieldPath(condition.fieldRef)}` : valueText(condition.value);
  return `${subject} ${op}${target ? ` ${target}` : ''}`;
}

export function conditionPolicies(condition: Condition): string {
  return [
    labelOf(FIELD_TYPES, condition.fieldType),
    `if missing: ${labelOf(ON_MISSING_FIELD, condition.onMissingField)}`,
    `if wrong type: ${labelOf(ON_COERCION_FAIL, condition.onCoercionFail)}`,
  ].join('; ');
}
