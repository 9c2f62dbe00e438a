import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateRuleForm } from './rule-form-validation.js';
import { emptyConditionRow, emptyRuleForm, type RuleFormState } from './rule-form.js';

function form(overrides: Partial<RuleFormState>): RuleFormState {
  return { ...emptyRuleForm(), name: 'Big orders', ...overrides };
}

test('a filled-in form becomes the NewRule sensors will be served', () => {
  const result = validateRuleForm(form({
    description: 'orders over 100 from DE or FR',
    action: 'ACTION_FAIL',
    sampleRate: '0.25',
    scopeTags: 'env=prod',
    groups: [
      [
        { ...emptyConditionRow(), path: 'order.total', op: 'OPERATOR_GT', fieldType: 'FIELD_TYPE_NUMERIC', value: '100' },
        { ...emptyConditionRow(), path: 'order.country', op: 'OPERATOR_IN', fieldType: 'FIELD_TYPE_TEXT', value: 'DE, FR',
          onMissingField: 'ON_MISSING_FIELD_FAIL' },
      ],
      [{ ...emptyConditionRow(), path: 'order.flags[*]', op: 'OPERATOR_EXISTS' }],
    ],
  }));
  assert.ok('rule' in result, JSON.stringify(result));
  assert.deepEqual(result.rule, {
    name: 'Big orders',
    description: 'orders over 100 from DE or FR',
    state: 'RULE_STATE_DRAFT',
    action: 'ACTION_FAIL',
    sampleRate: 0.25,
    scopeTags: [{ key: 'env', value: 'prod' }],
    orGroups: [
      {
        groupIndex: 0,
        conditions: [
          {
            fieldPath: { segments: [{ fieldName: 'order' }, { fieldName: 'total' }] },
            op: 'OPERATOR_GT',
            value: { numericValue: 100 },
            fieldType: 'FIELD_TYPE_NUMERIC',
            onMissingField: 'ON_MISSING_FIELD_SKIP',
            onCoercionFail: 'ON_COERCION_FAIL_SKIP',
          },
          {
            fieldPath: { segments: [{ fieldName: 'order' }, { fieldName: 'country' }] },
            op: 'OPERATOR_IN',
            value: { stringArray: { values: ['DE', 'FR'] } },
            fieldType: 'FIELD_TYPE_TEXT',
            onMissingField: 'ON_MISSING_FIELD_FAIL',
            onCoercionFail: 'ON_COERCION_FAIL_SKIP',
          },
        ],
      },
      {
        groupIndex: 1,
        conditions: [{
          fieldPath: { segments: [{ fieldName: 'order' }, { fieldName: 'flags' }, { wildcard: {} }] },
          op: 'OPERATOR_EXISTS',
          fieldType: 'FIELD_TYPE_ANY',
          onMissingField: 'ON_MISSING_FIELD_SKIP',
          onCoercionFail: 'ON_COERCION_FAIL_SKIP',
        }],
      },
    ],
  });
});

test("the validator's complaints land on the fields they concern", () => {
  const tooMany = Array.from({ length: 65 }, (_, i) => `v${i}`).join(', ');
  const result = validateRuleForm(form({
    name: '',
    sampleRate: '2',
    groups: [
      [{ ...emptyConditionRow(), path: 'tags', op: 'OPERATOR_IN', fieldType: 'FIELD_TYPE_TEXT', value: tooMany }],
      [],
    ],
  }));
  assert.ok('issues' in result);
  const fields = result.issues.map((issue) => issue.field);
  for (const field of ['name', 'sampleRate', 'g0.c0.value', 'g1']) {
    assert.ok(fields.includes(field), `an issue on ${field} (got ${fields.join(', ')})`);
  }
});

test('form issues and validator issues are reported together, without duplicates on one field', () => {
  const result = validateRuleForm(form({
    name: '',
    groups: [[{ ...emptyConditionRow(), path: 'a..b' }]],
  }));
  assert.ok('issues' in result);
  assert.deepEqual(result.issues.filter((issue) => issue.field === 'g0.c0.path').length, 1);
  assert.ok(result.issues.some((issue) => issue.field === 'name'));
});

test('a path deeper than the limit is refused by the validator, on the path field', () => {
  const deep = Array.from({ length: 17 }, (_, i) => `k${i}`).join('.');
  const result = validateRuleForm(form({ groups: [[{ ...emptyConditionRow(), path: deep, value: '1' }]] }));
  assert.ok('issues' in result);
  assert.equal(result.issues[0]?.field, 'g0.c0.path');
});
