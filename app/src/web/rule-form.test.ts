import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyIntent, emptyRuleForm, formToRuleInput, issueField, readIntent, readRuleForm, ruleToForm, type RuleFormState,
} from './rule-form.js';

/** A body the way @fastify/formbody hands over a posted editor form. */
const postedBody = {
  _csrf: 'token',
  name: '  Expensive orders  ',
  description: 'orders over 100',
  state: 'RULE_STATE_ACTIVE',
  action: 'ACTION_DROP',
  sampleRate: '0.5',
  scopeTags: 'env=prod, team = payments',
  g0: '1',
  'g0.c0.path': 'order.items[*].price',
  'g0.c0.op': 'OPERATOR_GT',
  'g0.c0.fieldType': 'FIELD_TYPE_NUMERIC',
  'g0.c0.valueSource': 'literal',
  'g0.c0.value': '100',
  'g0.c0.onMissingField': 'ON_MISSING_FIELD_SKIP',
  'g0.c0.onCoercionFail': 'ON_COERCION_FAIL_FAIL',
  'g0.c1.path': 'order.country',
  'g0.c1.op': 'OPERATOR_IN',
  'g0.c1.fieldType': 'FIELD_TYPE_TEXT',
  'g0.c1.value': 'DE, FR,NL',
  g1: '1',
  'g1.c0.path': 'order.flagged',
  'g1.c0.op': 'OPERATOR_EQ',
  'g1.c0.fieldType': 'FIELD_TYPE_BOOLEAN',
  'g1.c0.value': 'true',
  intent: 'save',
};

describe('reading the posted editor form', () => {
  test('fields, groups and rows come back in order, with defaults for absent selects', () => {
    const form = readRuleForm(postedBody);
    assert.equal(form.name, '  Expensive orders  ');
    assert.equal(form.state, 'RULE_STATE_ACTIVE');
    assert.equal(form.groups.length, 2);
    assert.equal(form.groups[0]?.length, 2);
    assert.equal(form.groups[0]?.[1]?.onMissingField, 'ON_MISSING_FIELD_SKIP', 'absent select falls back to the default');
    assert.equal(form.groups[1]?.[0]?.fieldType, 'FIELD_TYPE_BOOLEAN');
  });

  test('rows are ordered by number, not by the order the browser sent them', () => {
    const form = readRuleForm({ 'g0.c10.path': 'b', 'g0.c2.path': 'a', 'g3.c0.path': 'd', 'g1.c0.path': 'c' });
    assert.deepEqual(form.groups.map((rows) => rows.map((row) => row.path)), [['a', 'b'], ['c'], ['d']]);
  });

  test('select values that are not offered fall back to defaults instead of passing through', () => {
    const form = readRuleForm({ state: 'RULE_STATE_BOGUS', action: '<script>', 'g0.c0.path': 'x', 'g0.c0.op': 'DROP TABLE' });
    assert.equal(form.state, 'RULE_STATE_DRAFT');
    assert.equal(form.action, 'ACTION_OBSERVE');
    assert.equal(form.groups[0]?.[0]?.op, 'OPERATOR_EQ');
  });

  test('a group whose rows were all removed survives through its marker field', () => {
    const form = readRuleForm({ g0: '1', 'g0.c0.path': 'a', g1: '1' });
    assert.deepEqual(form.groups.map((rows) => rows.length), [1, 0]);
  });
});

describe('editor buttons without JavaScript', () => {
  test('the intent buttons are recognised, and anything else means save', () => {
    assert.deepEqual(readIntent({ intent: 'add-condition:2' }), { kind: 'add-condition', group: 2 });
    assert.deepEqual(readIntent({ intent: 'remove-condition:1:3' }), { kind: 'remove-condition', group: 1, condition: 3 });
    assert.deepEqual(readIntent({ intent: 'add-group' }), { kind: 'add-group' });
    assert.deepEqual(readIntent({ intent: 'remove-group:0' }), { kind: 'remove-group', group: 0 });
    assert.deepEqual(readIntent({ intent: 'save' }), { kind: 'save' });
    assert.deepEqual(readIntent({}), { kind: 'save' });
  });

  test('add condition, add group and remove apply to the right place and leave other rows alone', () => {
    const form = readRuleForm(postedBody);
    const added = applyIntent(form, { kind: 'add-condition', group: 1 });
    assert.deepEqual(added.groups.map((rows) => rows.length), [2, 2]);
    assert.equal(added.groups[1]?.[1]?.path, '');
    assert.equal(form.groups[1]?.length, 1, 'the original form is not mutated');
    assert.deepEqual(applyIntent(form, { kind: 'add-group' }).groups.map((rows) => rows.length), [2, 1, 1]);
    const removed = applyIntent(form, { kind: 'remove-condition', group: 0, condition: 0 });
    assert.equal(removed.groups[0]?.[0]?.path, 'order.country');
    assert.deepEqual(applyIntent(form, { kind: 'remove-group', group: 0 }).groups.map((rows) => rows[0]?.path), ['order.flagged']);
  });
});

describe('form to rule input', () => {
  test('the posted form maps to the proto3 JSON shape with typed values', () => {
    const { input, issues } = formToRuleInput(readRuleForm(postedBody));
    assert.deepEqual(issues, []);
    assert.equal(input.name, 'Expensive orders');
    assert.equal(input.sampleRate, 0.5);
    assert.deepEqual(input.scopeTags, [{ key: 'env', value: 'prod' }, { key: 'team', value: 'payments' }]);
    const [first, second] = input.orGroups[0]?.conditions ?? [];
    assert.deepEqual(first, {
      op: 'OPERATOR_GT',
      fieldType: 'FIELD_TYPE_NUMERIC',
      onMissingField: 'ON_MISSING_FIELD_SKIP',
      onCoercionFail: 'ON_COERCION_FAIL_FAIL',
      fieldPath: { segments: [{ fieldName: 'order' }, { fieldName: 'items' }, { wildcard: {} }, { fieldName: 'price' }] },
      value: { numericValue: 100 },
    });
    assert.deepEqual(second?.value, { stringArray: { values: ['DE', 'FR', 'NL'] } });
    assert.deepEqual(input.orGroups[1]?.conditions[0]?.value, { booleanValue: true });
    assert.deepEqual(input.orGroups.map((group) => group.groupIndex), [0, 1]);
  });

  test('values follow the field type: any infers numbers, booleans and null; IN lists may be JSON', () => {
    const value = (fieldType: string, op: string, text: string) =>
      formToRuleInput(readRuleForm({ 'g0.c0.path': 'x', 'g0.c0.fieldType': fieldType, 'g0.c0.op': op, 'g0.c0.value': text, sampleRate: '1' }))
        .input.orGroups[0]?.conditions[0]?.value;
    assert.deepEqual(value('FIELD_TYPE_ANY', 'OPERATOR_EQ', ' 42 '), { numericValue: 42 });
    assert.deepEqual(value('FIELD_TYPE_ANY', 'OPERATOR_EQ', 'false'), { booleanValue: false });
    assert.deepEqual(value('FIELD_TYPE_ANY', 'OPERATOR_EQ', 'null'), { nullValue: 'NULL_VALUE_UNSPECIFIED' });
    assert.deepEqual(value('FIELD_TYPE_ANY', 'OPERATOR_EQ', 'DE'), { stringValue: 'DE' });
    assert.deepEqual(value('FIELD_TYPE_TEXT', 'OPERATOR_EQ', '42'), { stringValue: '42' });
    assert.deepEqual(value('FIELD_TYPE_ANY', 'OPERATOR_IN', '1, 2.5'), { numericArray: { values: [1, 2.5] } });
    assert.deepEqual(value('FIELD_TYPE_TEXT', 'OPERATOR_IN', '["a,b", "c"]'), { stringArray: { values: ['a,b', 'c'] } });
    assert.equal(value('FIELD_TYPE_ANY', 'OPERATOR_EXISTS', 'ignored'), undefined);
  });

  test('a field reference becomes fieldRef instead of a value', () => {
    const condition = formToRuleInput(readRuleForm({
      'g0.c0.path': 'a', 'g0.c0.op': 'OPERATOR_LT', 'g0.c0.valueSource': 'field', 'g0.c0.value': 'limits.max', sampleRate: '1',
    })).input.orGroups[0]?.conditions[0];
    assert.deepEqual(condition?.fieldRef, { segments: [{ fieldName: 'limits' }, { fieldName: 'max' }] });
    assert.equal(condition?.value, undefined);
  });

  test('what the form cannot express becomes a message on the field that holds it', () => {
    const { issues } = formToRuleInput(readRuleForm({
      sampleRate: 'half',
      scopeTags: 'env=prod, oops',
      'g0.c0.path': 'a..b',
      'g0.c0.fieldType': 'FIELD_TYPE_NUMERIC',
      'g0.c0.value': 'ten',
      'g0.c1.path': 'ok',
      'g0.c1.fieldType': 'FIELD_TYPE_BOOLEAN',
      'g0.c1.value': 'yes',
      'g1.c0.path': 'n',
      'g1.c0.op': 'OPERATOR_IN',
      'g1.c0.fieldType': 'FIELD_TYPE_NUMERIC',
      'g1.c0.value': '1, x',
    }));
    assert.deepEqual(issues.map((issue) => issue.field), [
      'sampleRate', 'scopeTags', 'g0.c0.path', 'g0.c0.value', 'g0.c1.value', 'g1.c0.value',
    ]);
    assert.match(issues[1]?.message ?? '', /"oops" is not key=value/);
  });
});

describe('rule to form and back', () => {
  test('a rule loaded into the editor posts back as the same rule input', () => {
    const original = formToRuleInput(readRuleForm(postedBody)).input;
    const form: RuleFormState = ruleToForm({
      ...original,
      orGroups: original.orGroups as never,
    });
    const body: Record<string, string> = {
      name: form.name, description: form.description, state: form.state, action: form.action,
      sampleRate: form.sampleRate, scopeTags: form.scopeTags,
    };
    form.groups.forEach((rows, g) => rows.forEach((row, c) => {
      for (const [part, value] of Object.entries(row)) body[`g${g}.c${c}.${part}`] = value;
    }));
    assert.deepEqual(formToRuleInput(readRuleForm(body)).input, original);
  });

  test('a new form starts as one group with one empty condition and sample rate 1', () => {
    const form = emptyRuleForm();
    assert.equal(form.sampleRate, '1');
    assert.deepEqual(form.groups.map((rows) => rows.length), [1]);
  });
});

describe('placing validator issues on the form', () => {
  test('issue paths map to the input that holds the problem', () => {
    assert.equal(issueField('name'), 'name');
    assert.equal(issueField('sampleRate'), 'sampleRate');
    assert.equal(issueField('scopeTags[1].key'), 'scopeTags');
    assert.equal(issueField('orGroups'), 'groups');
    assert.equal(issueField('orGroups[2]'), 'g2');
    assert.equal(issueField('orGroups[2].conditions'), 'g2');
    assert.equal(issueField('orGroups[0].conditions[1].value'), 'g0.c1.value');
    assert.equal(issueField('orGroups[0].conditions[1].value.stringArray.values'), 'g0.c1.value');
    assert.equal(issueField('orGroups[0].conditions[1].fieldRef'), 'g0.c1.value');
    assert.equal(issueField('orGroups[0].conditions[1].fieldPath.segments[3]'), 'g0.c1.path');
    assert.equal(issueField('orGroups[0].conditions[1]'), 'g0.c1');
    assert.equal(issueField('somethingElse'), '');
  });
});
