import type { Condition, ScopeTag } from '../../src/rules/model.js';
import type { NewRule } from '../../src/rules/validate.js';
import type { HmacSecret } from '../../src/auth/hmac-secrets.js';

/** A rule matching events whose `field` equals `value` (numerically when `value` is a number). */
export function equalsRule(
  name: string,
  field: string,
  value: string | number,
  overrides: Partial<NewRule> & { scopeTags?: ScopeTag[] } = {},
): NewRule {
  const condition: Condition = {
    fieldPath: { segments: [{ fieldName: field }] },
    op: 'OPERATOR_EQ',
    value: typeof value === 'number' ? { numericValue: value } : { stringValue: value },
    fieldType: typeof value === 'number' ? 'FIELD_TYPE_NUMERIC' : 'FIELD_TYPE_TEXT',
    onMissingField: 'ON_MISSING_FIELD_SKIP',
    onCoercionFail: 'ON_COERCION_FAIL_SKIP',
  };
  return {
    name,
    description: `${field} equals ${value}`,
    state: 'RULE_STATE_ACTIVE',
    action: 'ACTION_OBSERVE',
    orGroups: [{ groupIndex: 0, conditions: [condition] }],
    sampleRate: 1,
    scopeTags: [],
    ...overrides,
  };
}

/** A rule whose evaluation fails (FAIL policy) on events that lack `field`. */
export function failWhenMissingRule(name: string, field: string): NewRule {
  return {
    name,
    description: '',
    state: 'RULE_STATE_ACTIVE',
    action: 'ACTION_FAIL',
    orGroups: [
      {
        groupIndex: 0,
        conditions: [
          {
            fieldPath: { segments: [{ fieldName: field }] },
            op: 'OPERATOR_GT',
            value: { numericValue: 0 },
            fieldType: 'FIELD_TYPE_NUMERIC',
            onMissingField: 'ON_MISSING_FIELD_FAIL',
            onCoercionFail: 'ON_COERCION_FAIL_SKIP',
          },
        ],
      },
    ],
    sampleRate: 1,
    scopeTags: [],
  };
}

export const SECRET_A: HmacSecret = { id: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', secret: Buffer.alloc(32, 1) };
export const SECRET_B: HmacSecret = { id: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', secret: Buffer.alloc(32, 2) };
