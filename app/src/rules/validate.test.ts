import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../errors.js';
import { parseRuleInput, RuleValidationError, type NewRule } from './validate.js';

type Json = Record<string, unknown>;

const segments = (...names: string[]) => ({ segments: names.map((fieldName) => ({ fieldName })) });

/** A minimal valid input: one group, one condition `temperature > 100`. */
function input(conditionFields: Json = {}, ruleFields: Json = {}): Json {
  return {
    name: 'temperature-high',
    orGroups: [{ conditions: [{ fieldPath: segments('temperature'), op: 'OPERATOR_GT', value: { numericValue: 100 }, ...conditionFields }] }],
    ...ruleFields,
  };
}

function rejection(raw: unknown): RuleValidationError {
  try {
    parseRuleInput(raw);
  } catch (error) {
    assert.ok(error instanceof RuleValidationError, `expected a RuleValidationError, got ${String(error)}`);
    return error;
  }
  assert.fail('the input was accepted');
}

describe('accepted input and the defaults filled in', () => {
  test('a minimal rule gets every default', () => {
    assert.deepEqual(parseRuleInput(input()), {
      name: 'temperature-high',
      description: '',
      state: 'RULE_STATE_DRAFT',
      action: 'ACTION_OBSERVE',
      orGroups: [{
        groupIndex: 0,
        conditions: [{
          fieldPath: segments('temperature'),
          op: 'OPERATOR_GT',
          fieldType: 'FIELD_TYPE_ANY',
          onMissingField: 'ON_MISSING_FIELD_SKIP',
          onCoercionFail: 'ON_COERCION_FAIL_SKIP',
          value: { numericValue: 100 },
        }],
      }],
      sampleRate: 1,
      scopeTags: [],
    } satisfies NewRule);
  });

  test('snake_case field names are read like their lowerCamelCase names', () => {
    const camel = parseRuleInput({
      name: 'n', sampleRate: 0.5, scopeTags: [{ key: 'env', value: 'prod' }],
      orGroups: [{ groupIndex: 0, conditions: [{
        fieldPath: { segments: [{ fieldName: 'a' }, { arrayIndex: 2 }, { wildcard: {} }] }, op: 'OPERATOR_IN',
        fieldType: 'FIELD_TYPE_NUMERIC', value: { numericArray: { values: [1] } },
        onMissingField: 'ON_MISSING_FIELD_MATCH', onCoercionFail: 'ON_COERCION_FAIL_FAIL',
      }] }],
    });
    const snake = parseRuleInput({
      name: 'n', sample_rate: 0.5, scope_tags: [{ key: 'env', value: 'prod' }],
      or_groups: [{ group_index: 0, conditions: [{
        field_path: { segments: [{ field_name: 'a' }, { array_index: 2 }, { wildcard: {} }] }, op: 'OPERATOR_IN',
        field_type: 'FIELD_TYPE_NUMERIC', value: { numeric_array: { values: [1] } },
        on_missing_field: 'ON_MISSING_FIELD_MATCH', on_coercion_fail: 'ON_COERCION_FAIL_FAIL',
      }] }],
    });
    assert.deepEqual(snake, camel);
  });

  test('enums may be given by number, as proto3 JSON allows', () => {
    const rule = parseRuleInput(input({ op: 5, fieldType: 1 }, { state: 2, action: 3 }));
    assert.deepEqual(
      [rule.state, rule.action, rule.orGroups[0]?.conditions[0]?.op, rule.orGroups[0]?.conditions[0]?.fieldType],
      ['RULE_STATE_ACTIVE', 'ACTION_FAIL', 'OPERATOR_GT', 'FIELD_TYPE_NUMERIC'],
    );
  });

  test('UNSPECIFIED enums and nulls take the defaults', () => {
    const rule = parseRuleInput(input(
      { fieldType: 'FIELD_TYPE_UNSPECIFIED', onMissingField: 'ON_MISSING_FIELD_UNSPECIFIED', onCoercionFail: null },
      { state: 'RULE_STATE_UNSPECIFIED', action: 'ACTION_UNSPECIFIED', description: null, scopeTags: null, sampleRate: null },
    ));
    assert.deepEqual(rule, parseRuleInput(input()));
  });

  test('numbers may be given as strings, as proto3 JSON allows', () => {
    const rule = parseRuleInput(input({ value: { numericValue: '1e2' } }, { sampleRate: '0.25' }));
    assert.deepEqual([rule.sampleRate, rule.orGroups[0]?.conditions[0]?.value], [0.25, { numericValue: 100 }]);
  });

  test('a sample rate of 0 is kept', () => {
    assert.equal(parseRuleInput(input({}, { sampleRate: 0 })).sampleRate, 0);
  });

  test('the limits themselves are accepted', () => {
    const manyValues = Array.from({ length: 64 }, (_, i) => `v${i}`);
    const deepPath = { segments: [{ fieldName: 'a' }, { wildcard: {} }, { wildcard: {} }, ...Array.from({ length: 13 }, () => ({ fieldName: 'b' }))] };
    const rule = parseRuleInput(input(
      { fieldPath: deepPath, op: 'OPERATOR_IN', value: { stringArray: { values: manyValues } } },
      { name: 'n'.repeat(128), description: 'd'.repeat(1024), sampleRate: 1 },
    ));
    assert.equal(rule.name.length, 128);
  });

  test('a name is counted in characters, not UTF-16 units', () => {
    assert.equal(parseRuleInput(input({}, { name: '🔥'.repeat(128) })).name, '🔥'.repeat(128));
  });

  test('parsing a parsed rule changes nothing', () => {
    const once = parseRuleInput(input({ fieldRef: segments('limit'), value: undefined }, { description: 'x', scopeTags: [{ key: 'k', value: 'v' }] }));
    assert.deepEqual(parseRuleInput(once), once);
  });

  test('EXISTS and IS_NULL take neither value nor fieldRef', () => {
    for (const op of ['OPERATOR_EXISTS', 'OPERATOR_IS_NULL']) {
      assert.equal(parseRuleInput(input({ op, value: undefined })).orGroups[0]?.conditions[0]?.value, undefined);
    }
  });
});

describe('rejected input names each bad field by path', () => {
  const longList = Array.from({ length: 65 }, (_, i) => i);
  const threeWildcards = { segments: [{ fieldName: 'a' }, { wildcard: {} }, { wildcard: {} }, { wildcard: {} }] };
  const cases: [string, Json, string, RegExp][] = [
    ['a missing name', { ...input(), name: undefined }, 'name', /is required/],
    ['an empty name', input({}, { name: '' }), 'name', /1 to 128 characters/],
    ['a name of 129 characters', input({}, { name: 'n'.repeat(129) }), 'name', /1 to 128 characters, has 129/],
    ['a name with a newline', input({}, { name: 'a\nb' }), 'name', /control characters/],
    ['a name with leading spaces', input({}, { name: ' a' }), 'name', /spaces/],
    ['a name that is not text', input({}, { name: 5 }), 'name', /must be text, got a number/],
    ['a description of 1025 characters', input({}, { description: 'd'.repeat(1025) }), 'description', /at most 1024/],
    ['an unknown state', input({}, { state: 'ACTIVE' }), 'state', /must be one of RULE_STATE_UNSPECIFIED/],
    ['an unknown action', input({}, { action: 'ACTION_BLOCK' }), 'action', /ACTION_DROP/],
    ['a sample rate above 1', input({}, { sampleRate: 1.5 }), 'sampleRate', /between 0 and 1/],
    ['a negative sample rate', input({}, { sampleRate: -0.1 }), 'sampleRate', /between 0 and 1/],
    ['a NaN sample rate', input({}, { sampleRate: 'NaN' }), 'sampleRate', /finite number/],
    ['no groups', { name: 'n' }, 'orGroups', /is required/],
    ['an empty list of groups', input({}, { orGroups: [] }), 'orGroups', /at least one group/],
    ['groups that are not a list', input({}, { orGroups: {} }), 'orGroups', /must be a list/],
    ['an empty group', input({}, { orGroups: [{ conditions: [] }] }), 'orGroups[0].conditions', /at least one condition/],
    ['a group without conditions', input({}, { orGroups: [{}] }), 'orGroups[0].conditions', /is required/],
    ['a group index that is not the position', input({}, { orGroups: [{ groupIndex: 3, conditions: [{ fieldPath: segments('a'), op: 'OPERATOR_EXISTS' }] }] }), 'orGroups[0].groupIndex', /position, 0/],
    ['a missing field path', input({ fieldPath: undefined }), 'orGroups[0].conditions[0].fieldPath', /is required/],
    ['a field path without segments', input({ fieldPath: { segments: [] } }), 'orGroups[0].conditions[0].fieldPath.segments', /1 to 16 segments, has 0/],
    ['a field path of 17 segments', input({ fieldPath: segments(...'abcdefghijklmnopq') }), 'orGroups[0].conditions[0].fieldPath.segments', /1 to 16 segments, has 17/],
    ['a field path with 3 wildcards', input({ fieldPath: threeWildcards }), 'orGroups[0].conditions[0].fieldPath.segments', /3 wildcards, at most 2/],
    ['a segment setting two kinds', input({ fieldPath: { segments: [{ fieldName: 'a', arrayIndex: 1 }] } }), 'orGroups[0].conditions[0].fieldPath.segments[0]', /exactly one of fieldName, arrayIndex, wildcard/],
    ['a segment setting none', input({ fieldPath: { segments: [{}] } }), 'orGroups[0].conditions[0].fieldPath.segments[0]', /none is set/],
    ['an empty field name', input({ fieldPath: { segments: [{ fieldName: '' }] } }), 'orGroups[0].conditions[0].fieldPath.segments[0].fieldName', /must not be empty/],
    ['a negative array index', input({ fieldPath: { segments: [{ fieldName: 'a' }, { arrayIndex: -1 }] } }), 'orGroups[0].conditions[0].fieldPath.segments[1].arrayIndex', /must not be negative/],
    ['a fractional array index', input({ fieldPath: { segments: [{ fieldName: 'a' }, { arrayIndex: 1.5 }] } }), 'orGroups[0].conditions[0].fieldPath.segments[1].arrayIndex', /whole number/],
    ['a wildcard with content', input({ fieldPath: { segments: [{ wildcard: { all: true } }] } }), 'orGroups[0].conditions[0].fieldPath.segments[0].wildcard.all', /unknown field/],
    ['a wildcard in fieldRef', input({ value: undefined, fieldRef: { segments: [{ fieldName: 'a' }, { wildcard: {} }] } }), 'orGroups[0].conditions[0].fieldRef.segments[1].wildcard', /single value/],
    ['both value and fieldRef', input({ fieldRef: segments('limit') }), 'orGroups[0].conditions[0].value', /together with fieldRef/],
    ['neither value nor fieldRef', input({ value: undefined }), 'orGroups[0].conditions[0].value', /is required for OPERATOR_GT/],
    ['EXISTS with a value', input({ op: 'OPERATOR_EXISTS' }), 'orGroups[0].conditions[0].value', /must be left out: OPERATOR_EXISTS/],
    ['IS_NULL with a fieldRef', input({ op: 'OPERATOR_IS_NULL', value: undefined, fieldRef: segments('b') }), 'orGroups[0].conditions[0].fieldRef', /must be left out: OPERATOR_IS_NULL/],
    ['a missing operator', input({ op: undefined }), 'orGroups[0].conditions[0].op', /is required: one of OPERATOR_EQ/],
    ['the UNSPECIFIED operator', input({ op: 'OPERATOR_UNSPECIFIED' }), 'orGroups[0].conditions[0].op', /is required/],
    ['an operator name without its prefix', input({ op: 'GT' }), 'orGroups[0].conditions[0].op', /must be one of/],
    ['LT against text', input({ op: 'OPERATOR_LT', value: { stringValue: '5' } }), 'orGroups[0].conditions[0].value', /OPERATOR_LT with FIELD_TYPE_ANY needs value.numericValue, got value.stringValue/],
    ['LTE on a text field', input({ op: 'OPERATOR_LTE', fieldType: 'FIELD_TYPE_TEXT' }), 'orGroups[0].conditions[0].fieldType', /OPERATOR_LTE works with FIELD_TYPE_NUMERIC or FIELD_TYPE_ANY, not FIELD_TYPE_TEXT/],
    ['GTE on a boolean field', input({ op: 'OPERATOR_GTE', fieldType: 'FIELD_TYPE_BOOLEAN' }), 'orGroups[0].conditions[0].fieldType', /not FIELD_TYPE_BOOLEAN/],
    ['PREFIX with a number', input({ op: 'OPERATOR_PREFIX' }), 'orGroups[0].conditions[0].value', /needs value.stringValue, got value.numericValue/],
    ['SUFFIX on a numeric field', input({ op: 'OPERATOR_SUFFIX', fieldType: 'FIELD_TYPE_NUMERIC', value: { stringValue: 'x' } }), 'orGroups[0].conditions[0].fieldType', /FIELD_TYPE_TEXT or FIELD_TYPE_ANY/],
    ['CONTAINS on a boolean field', input({ op: 'OPERATOR_CONTAINS', fieldType: 'FIELD_TYPE_BOOLEAN', value: { stringValue: 'x' } }), 'orGroups[0].conditions[0].fieldType', /not FIELD_TYPE_BOOLEAN/],
    ['IN with a single value', input({ op: 'OPERATOR_IN', value: { stringValue: 'a' } }), 'orGroups[0].conditions[0].value', /needs value.stringArray or value.numericArray/],
    ['IN with 65 values', input({ op: 'OPERATOR_IN', value: { numericArray: { values: longList } } }), 'orGroups[0].conditions[0].value.numericArray.values', /1 to 64 values, has 65/],
    ['IN with an empty list', input({ op: 'OPERATOR_IN', value: { stringArray: { values: [] } } }), 'orGroups[0].conditions[0].value.stringArray.values', /1 to 64 values, has 0/],
    ['IN with a fieldRef', input({ op: 'OPERATOR_IN', value: undefined, fieldRef: segments('b') }), 'orGroups[0].conditions[0].fieldRef', /must be left out: OPERATOR_IN/],
    ['IN without a list', input({ op: 'OPERATOR_IN', value: undefined }), 'orGroups[0].conditions[0].value', /needs a list/],
    ['IN on a boolean field', input({ op: 'OPERATOR_IN', fieldType: 'FIELD_TYPE_BOOLEAN', value: { stringArray: { values: ['true'] } } }), 'orGroups[0].conditions[0].fieldType', /not FIELD_TYPE_BOOLEAN/],
    ['IN on a text field with numbers', input({ op: 'OPERATOR_IN', fieldType: 'FIELD_TYPE_TEXT', value: { numericArray: { values: [1] } } }), 'orGroups[0].conditions[0].value', /needs value.stringArray, got value.numericArray/],
    ['EQ on a numeric field with text', input({ op: 'OPERATOR_EQ', fieldType: 'FIELD_TYPE_NUMERIC', value: { stringValue: '5' } }), 'orGroups[0].conditions[0].value', /needs value.numericValue/],
    ['EQ on a boolean field with a number', input({ op: 'OPERATOR_EQ', fieldType: 'FIELD_TYPE_BOOLEAN' }), 'orGroups[0].conditions[0].value', /needs value.booleanValue/],
    ['EQ with a null value', input({ op: 'OPERATOR_EQ', value: { nullValue: 'NULL_VALUE_UNSPECIFIED' } }), 'orGroups[0].conditions[0].value', /use OPERATOR_IS_NULL or OPERATOR_EXISTS/],
    ['a value setting two kinds', input({ value: { numericValue: 1, stringValue: 'a' } }), 'orGroups[0].conditions[0].value', /exactly one of .* \(stringValue and numericValue are set\)/],
    ['an empty value', input({ value: {} }), 'orGroups[0].conditions[0].value', /none is set/],
    ['a non-numeric numericValue', input({ value: { numericValue: 'abc' } }), 'orGroups[0].conditions[0].value.numericValue', /finite number, got "abc"/],
    ['a string list holding a number', input({ op: 'OPERATOR_IN', value: { stringArray: { values: ['a', 2] } } }), 'orGroups[0].conditions[0].value.stringArray.values[1]', /must be text/],
    ['an unknown rule field', input({}, { priority: 1 }), 'priority', /unknown field, expected one of name, description/],
    ['an unknown condition field', input({ negate: true }), 'orGroups[0].conditions[0].negate', /unknown field/],
    ['the reference design\'s "any"', { name: 'n', any: [] }, 'any', /use orGroups/],
    ['a ruleId', input({}, { ruleId: '0190' }), 'ruleId', /server assigns it/],
    ['a snake_case created_at', input({}, { created_at: '2025-01-01T00:00:00Z' }), 'created_at', /server assigns it/],
    ['one field under both of its names', input({}, { sampleRate: 0.5, sample_rate: 0.5 }), 'sample_rate', /same field as sampleRate/],
    ['a scope tag with an empty key', input({}, { scopeTags: [{ key: '', value: 'prod' }] }), 'scopeTags[0].key', /must not be empty/],
    ['a scope tag without a value', input({}, { scopeTags: [{ key: 'env' }] }), 'scopeTags[0].value', /is required/],
    ['a scope tag key with "="', input({}, { scopeTags: [{ key: 'a=b', value: 'c' }] }), 'scopeTags[0].key', /must not contain "="/],
    ['a repeated scope tag', input({}, { scopeTags: [{ key: 'env', value: 'prod' }, { key: 'env', value: 'prod' }] }), 'scopeTags[1]', /repeats scopeTags\[0\]/],
  ];

  for (const [title, raw, path, message] of cases) {
    test(`${title} is refused at ${path}`, () => {
      const error = rejection(raw);
      const issue = error.issues.find((i) => i.path === path);
      assert.ok(issue, `no issue at ${path}; issues: ${JSON.stringify(error.issues)}`);
      assert.match(issue.message, message);
      assert.ok(error.message.includes(`${path}: ${issue.message}`), error.message);
    });
  }

  test('input that is not an object is refused', () => {
    for (const raw of [null, [], 'rule', 5]) assert.match(rejection(raw).message, /^Rule is invalid: must be an object/);
  });
});

describe('the validation error', () => {
  test('is a UserError whose message names the rule and every bad field', () => {
    const error = rejection(input({ op: 'OPERATOR_PREFIX', onMissingField: 'SKIP' }, { name: 'cpu-high', sampleRate: 2 }));
    assert.ok(error instanceof UserError);
    assert.equal(error.ruleName, 'cpu-high');
    assert.deepEqual(error.issues.map((i) => i.path), [
      'orGroups[0].conditions[0].value', 'orGroups[0].conditions[0].onMissingField', 'sampleRate',
    ]);
    assert.match(error.message, /^Rule "cpu-high" is invalid: orGroups\[0\]\.conditions\[0\]\.value: .*; orGroups\[0\]\.conditions\[0\]\.onMissingField: .*; sampleRate: /);
    assert.ok(error.fix);
  });

  test('a rule without a usable name is called just "Rule"', () => {
    assert.match(rejection({ orGroups: [] }).message, /^Rule is invalid: name: is required; orGroups: /);
  });
});
