import type { Action, FieldType, OnCoercionFail, OnMissingField, Operator, RuleState } from './model.js';

/**
 * Every name of each rule enum, at the index of its proto number, so that proto3 JSON
 * input may give either (`"OPERATOR_GT"` or `5`) and the web UI can list the choices.
 */
export const OPERATORS = [
  'OPERATOR_UNSPECIFIED', 'OPERATOR_EQ', 'OPERATOR_NEQ', 'OPERATOR_LT', 'OPERATOR_LTE',
  'OPERATOR_GT', 'OPERATOR_GTE', 'OPERATOR_PREFIX', 'OPERATOR_SUFFIX', 'OPERATOR_CONTAINS',
  'OPERATOR_IN', 'OPERATOR_EXISTS', 'OPERATOR_IS_NULL',
] as const satisfies readonly Operator[];

export const FIELD_TYPES = [
  'FIELD_TYPE_UNSPECIFIED', 'FIELD_TYPE_NUMERIC', 'FIELD_TYPE_TEXT', 'FIELD_TYPE_BOOLEAN', 'FIELD_TYPE_ANY',
] as const satisfies readonly FieldType[];

export const RULE_STATES = [
  'RULE_STATE_UNSPECIFIED', 'RULE_STATE_DRAFT', 'RULE_STATE_ACTIVE', 'RULE_STATE_DISABLED',
] as const satisfies readonly RuleState[];

export const ACTIONS = [
  'ACTION_UNSPECIFIED', 'ACTION_OBSERVE', 'ACTION_DROP', 'ACTION_FAIL',
] as const satisfies readonly Action[];

export const ON_MISSING_FIELD = [
  'ON_MISSING_FIELD_UNSPECIFIED', 'ON_MISSING_FIELD_SKIP', 'ON_MISSING_FIELD_MATCH', 'ON_MISSING_FIELD_FAIL',
] as const satisfies readonly OnMissingField[];

export const ON_COERCION_FAIL = [
  'ON_COERCION_FAIL_UNSPECIFIED', 'ON_COERCION_FAIL_SKIP', 'ON_COERCION_FAIL_MATCH', 'ON_COERCION_FAIL_FAIL',
] as const satisfies readonly OnCoercionFail[];

// Compile-time proof that no name of a model enum is missing from its list above.
type Covers<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : never;
const enumListsAreComplete: [
  Covers<Operator, (typeof OPERATORS)[number]>,
  Covers<FieldType, (typeof FIELD_TYPES)[number]>,
  Covers<RuleState, (typeof RULE_STATES)[number]>,
  Covers<Action, (typeof ACTIONS)[number]>,
  Covers<OnMissingField, (typeof ON_MISSING_FIELD)[number]>,
  Covers<OnCoercionFail, (typeof ON_COERCION_FAIL)[number]>,
] = [true, true, true, true, true, true];
void enumListsAreComplete;
