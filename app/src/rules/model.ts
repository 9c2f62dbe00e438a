/**
 * A rule as the app holds it: the proto3 JSON mapping of `trapperkeeper.sensor.v1.Rule`
 * (lowerCamelCase fields, enums by name), plus `description`, which the wire lacks.
 * Rules-as-code files hold this shape and the database's JSON columns store it. On the wire
 * (@grpc/proto-loader with `enums: String`) it differs in two ways, handled by
 * grpc/wire-rule.ts: `createdAt` is a `{ seconds, nanos }` Timestamp, and decoded oneofs
 * carry an extra discriminator key (`valueType`, `segmentType`).
 */
export type Operator =
  | 'OPERATOR_UNSPECIFIED' | 'OPERATOR_EQ' | 'OPERATOR_NEQ' | 'OPERATOR_LT' | 'OPERATOR_LTE'
  | 'OPERATOR_GT' | 'OPERATOR_GTE' | 'OPERATOR_PREFIX' | 'OPERATOR_SUFFIX' | 'OPERATOR_CONTAINS'
  | 'OPERATOR_IN' | 'OPERATOR_EXISTS' | 'OPERATOR_IS_NULL';
export type FieldType =
  | 'FIELD_TYPE_UNSPECIFIED' | 'FIELD_TYPE_NUMERIC' | 'FIELD_TYPE_TEXT' | 'FIELD_TYPE_BOOLEAN' | 'FIELD_TYPE_ANY';
export type RuleState = 'RULE_STATE_UNSPECIFIED' | 'RULE_STATE_DRAFT' | 'RULE_STATE_ACTIVE' | 'RULE_STATE_DISABLED';
export type Action = 'ACTION_UNSPECIFIED' | 'ACTION_OBSERVE' | 'ACTION_DROP' | 'ACTION_FAIL';
export type OnMissingField =
  | 'ON_MISSING_FIELD_UNSPECIFIED' | 'ON_MISSING_FIELD_SKIP' | 'ON_MISSING_FIELD_MATCH' | 'ON_MISSING_FIELD_FAIL';
export type OnCoercionFail =
  | 'ON_COERCION_FAIL_UNSPECIFIED' | 'ON_COERCION_FAIL_SKIP' | 'ON_COERCION_FAIL_MATCH' | 'ON_COERCION_FAIL_FAIL';

/** Exactly one of the three is set. */
export type PathSegment =
  | { fieldName: string }
  | { arrayIndex: number }
  | { wildcard: Record<string, never> };

export interface FieldPath {
  segments: PathSegment[];
}

/** Exactly one member is set (proto `oneof value_type`). */
export type ConditionValue =
  | { stringValue: string }
  | { numericValue: number }
  | { booleanValue: boolean }
  | { nullValue: 'NULL_VALUE_UNSPECIFIED' }
  | { stringArray: { values: string[] } }
  | { numericArray: { values: number[] } };

export interface Condition {
  fieldPath: FieldPath;
  op: Operator;
  value?: ConditionValue;
  fieldType: FieldType;
  onMissingField: OnMissingField;
  onCoercionFail: OnCoercionFail;
  fieldRef?: FieldPath;
}

export interface OrGroup {
  groupIndex: number;
  conditions: Condition[];
}

export interface ScopeTag {
  key: string;
  value: string;
}

export interface Rule {
  ruleId: string;
  name: string;
  description: string;
  state: RuleState;
  action: Action;
  orGroups: OrGroup[];
  sampleRate: number;
  scopeTags: ScopeTag[];
  /** RFC 3339 UTC, as in the proto3 JSON mapping of google.protobuf.Timestamp. */
  createdAt: string;
}
