import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRule, evaluateRule, type ConditionOutcome } from './evaluate.js';
import type { Condition, ConditionValue, FieldType, OnMissingField, Operator } from './model.js';
import { bool, condition, groups, num, numbers, path, rule, seededRandom, str, strings } from './testing.js';

const ABSENT = Symbol('absent');

/** One condition on field `f`, evaluated against `{ f: value }` (or `{}` for ABSENT). */
function outcomeOf(op: Operator, fieldType: FieldType, value: ConditionValue | undefined, fieldValue: unknown): ConditionOutcome {
  const payload = fieldValue === ABSENT ? {} : { f: fieldValue };
  const fields: Partial<Condition> & { op: Operator } = { op, fieldType };
  if (value !== undefined) fields.value = value;
  const evaluation = evaluateRule(rule(groups([condition(fields)])), payload);
  assert.equal(evaluation.trace.length, 1);
  return (evaluation.trace[0] as { outcome: ConditionOutcome }).outcome;
}

type OperatorCase = [Operator, FieldType, ConditionValue | undefined, unknown, ConditionOutcome];

const OPERATOR_CASES: OperatorCase[] = [
  // EQ / NEQ
  ['OPERATOR_EQ', 'FIELD_TYPE_NUMERIC', num(10), 10, 'true'],
  ['OPERATOR_EQ', 'FIELD_TYPE_NUMERIC', num(10), '10', 'true'],
  ['OPERATOR_EQ', 'FIELD_TYPE_NUMERIC', num(10), ' 1e1 ', 'true'],
  ['OPERATOR_EQ', 'FIELD_TYPE_NUMERIC', num(10), 11, 'false'],
  ['OPERATOR_EQ', 'FIELD_TYPE_NUMERIC', num(10), 'abc', 'coercion-failed'],
  ['OPERATOR_EQ', 'FIELD_TYPE_NUMERIC', num(10), true, 'coercion-failed'],
  ['OPERATOR_EQ', 'FIELD_TYPE_NUMERIC', num(10), { v: 10 }, 'coercion-failed'],
  ['OPERATOR_EQ', 'FIELD_TYPE_NUMERIC', num(10), null, 'missing'],
  ['OPERATOR_EQ', 'FIELD_TYPE_NUMERIC', num(10), ABSENT, 'missing'],
  ['OPERATOR_EQ', 'FIELD_TYPE_TEXT', str('10'), 10, 'true'],
  ['OPERATOR_EQ', 'FIELD_TYPE_TEXT', str('10.5'), 10.5, 'true'],
  ['OPERATOR_EQ', 'FIELD_TYPE_TEXT', str('true'), true, 'true'],
  ['OPERATOR_EQ', 'FIELD_TYPE_TEXT', str('x'), 'y', 'false'],
  ['OPERATOR_EQ', 'FIELD_TYPE_TEXT', str('10'), '10.0', 'false'],
  ['OPERATOR_EQ', 'FIELD_TYPE_TEXT', str('x'), ['x'], 'coercion-failed'],
  ['OPERATOR_EQ', 'FIELD_TYPE_BOOLEAN', bool(true), true, 'true'],
  ['OPERATOR_EQ', 'FIELD_TYPE_BOOLEAN', bool(true), false, 'false'],
  ['OPERATOR_EQ', 'FIELD_TYPE_BOOLEAN', bool(true), 'true', 'coercion-failed'],
  ['OPERATOR_EQ', 'FIELD_TYPE_BOOLEAN', bool(true), 1, 'coercion-failed'],
  ['OPERATOR_EQ', 'FIELD_TYPE_ANY', num(25), 25, 'true'],
  ['OPERATOR_EQ', 'FIELD_TYPE_ANY', num(25), '25', 'true'],
  ['OPERATOR_EQ', 'FIELD_TYPE_ANY', num(25), '25.0', 'true'],
  ['OPERATOR_EQ', 'FIELD_TYPE_ANY', num(25), 'abc', 'coercion-failed'],
  ['OPERATOR_EQ', 'FIELD_TYPE_ANY', num(1), true, 'coercion-failed'],
  ['OPERATOR_EQ', 'FIELD_TYPE_ANY', str('abc'), 'abc', 'true'],
  ['OPERATOR_EQ', 'FIELD_TYPE_ANY', str('abc'), 'abd', 'false'],
  ['OPERATOR_EQ', 'FIELD_TYPE_ANY', str('10'), 10, 'true'],
  ['OPERATOR_EQ', 'FIELD_TYPE_ANY', str('abc'), 5, 'coercion-failed'],
  ['OPERATOR_EQ', 'FIELD_TYPE_ANY', bool(true), true, 'true'],
  ['OPERATOR_EQ', 'FIELD_TYPE_ANY', bool(true), 'true', 'coercion-failed'],
  ['OPERATOR_NEQ', 'FIELD_TYPE_NUMERIC', num(10), 11, 'true'],
  ['OPERATOR_NEQ', 'FIELD_TYPE_NUMERIC', num(10), '10', 'false'],
  ['OPERATOR_NEQ', 'FIELD_TYPE_NUMERIC', num(10), 'abc', 'coercion-failed'],
  ['OPERATOR_NEQ', 'FIELD_TYPE_TEXT', str('a'), 'b', 'true'],
  ['OPERATOR_NEQ', 'FIELD_TYPE_TEXT', str('1'), 1, 'false'],
  ['OPERATOR_NEQ', 'FIELD_TYPE_BOOLEAN', bool(true), false, 'true'],
  ['OPERATOR_NEQ', 'FIELD_TYPE_BOOLEAN', bool(true), 'no', 'coercion-failed'],
  ['OPERATOR_NEQ', 'FIELD_TYPE_ANY', num(25), '25', 'false'],
  ['OPERATOR_NEQ', 'FIELD_TYPE_ANY', str('a'), 'b', 'true'],
  ['OPERATOR_NEQ', 'FIELD_TYPE_ANY', num(1), null, 'missing'],
  // LT / LTE / GT / GTE
  ['OPERATOR_LT', 'FIELD_TYPE_NUMERIC', num(10), 5, 'true'],
  ['OPERATOR_LT', 'FIELD_TYPE_NUMERIC', num(10), 10, 'false'],
  ['OPERATOR_LT', 'FIELD_TYPE_NUMERIC', num(10), '-3', 'true'],
  ['OPERATOR_LTE', 'FIELD_TYPE_NUMERIC', num(10), 10, 'true'],
  ['OPERATOR_LTE', 'FIELD_TYPE_NUMERIC', num(10), 10.01, 'false'],
  ['OPERATOR_GT', 'FIELD_TYPE_NUMERIC', num(10), '11', 'true'],
  ['OPERATOR_GT', 'FIELD_TYPE_NUMERIC', num(10), 10, 'false'],
  ['OPERATOR_GT', 'FIELD_TYPE_NUMERIC', num(10), 'x', 'coercion-failed'],
  ['OPERATOR_GT', 'FIELD_TYPE_NUMERIC', num(0), true, 'coercion-failed'],
  ['OPERATOR_GTE', 'FIELD_TYPE_NUMERIC', num(10), 10, 'true'],
  ['OPERATOR_GTE', 'FIELD_TYPE_NUMERIC', num(10), 9, 'false'],
  ['OPERATOR_GTE', 'FIELD_TYPE_NUMERIC', num(10), ABSENT, 'missing'],
  ['OPERATOR_LT', 'FIELD_TYPE_ANY', num(10), '5', 'true'],
  ['OPERATOR_LTE', 'FIELD_TYPE_ANY', num(10), 11, 'false'],
  ['OPERATOR_GT', 'FIELD_TYPE_ANY', num(10), 'abc', 'coercion-failed'],
  ['OPERATOR_GTE', 'FIELD_TYPE_ANY', num(10), [10], 'coercion-failed'],
  // PREFIX / SUFFIX / CONTAINS
  ['OPERATOR_PREFIX', 'FIELD_TYPE_TEXT', str('TEMP-'), 'TEMP-001', 'true'],
  ['OPERATOR_PREFIX', 'FIELD_TYPE_TEXT', str('100'), 1003873479, 'true'],
  ['OPERATOR_PREFIX', 'FIELD_TYPE_TEXT', str('100'), true, 'false'],
  ['OPERATOR_PREFIX', 'FIELD_TYPE_TEXT', str('x'), { x: 1 }, 'coercion-failed'],
  ['OPERATOR_PREFIX', 'FIELD_TYPE_ANY', str('tr'), true, 'true'],
  ['OPERATOR_SUFFIX', 'FIELD_TYPE_TEXT', str('bc'), 'abc', 'true'],
  ['OPERATOR_SUFFIX', 'FIELD_TYPE_TEXT', str('.5'), 1.5, 'true'],
  ['OPERATOR_SUFFIX', 'FIELD_TYPE_ANY', str('x'), 'abc', 'false'],
  ['OPERATOR_CONTAINS', 'FIELD_TYPE_TEXT', str('b'), 'abc', 'true'],
  ['OPERATOR_CONTAINS', 'FIELD_TYPE_TEXT', str('z'), 'abc', 'false'],
  ['OPERATOR_CONTAINS', 'FIELD_TYPE_TEXT', str('e+2'), 1e21, 'true'],
  ['OPERATOR_CONTAINS', 'FIELD_TYPE_TEXT', str('b'), ['a', 'b'], 'true'],
  ['OPERATOR_CONTAINS', 'FIELD_TYPE_TEXT', str('b'), ['a', 'bc'], 'false'],
  ['OPERATOR_CONTAINS', 'FIELD_TYPE_TEXT', str('b'), [], 'false'],
  ['OPERATOR_CONTAINS', 'FIELD_TYPE_ANY', str('2'), [1, 2], 'true'],
  ['OPERATOR_CONTAINS', 'FIELD_TYPE_ANY', str('b'), { b: 1 }, 'coercion-failed'],
  // IN
  ['OPERATOR_IN', 'FIELD_TYPE_NUMERIC', numbers(1, 2, 3), '2', 'true'],
  ['OPERATOR_IN', 'FIELD_TYPE_NUMERIC', numbers(1, 2, 3), 4, 'false'],
  ['OPERATOR_IN', 'FIELD_TYPE_NUMERIC', numbers(1, 2, 3), 'x', 'coercion-failed'],
  ['OPERATOR_IN', 'FIELD_TYPE_TEXT', strings('100', '200'), 100, 'true'],
  ['OPERATOR_IN', 'FIELD_TYPE_TEXT', strings('100', '200'), '300', 'false'],
  ['OPERATOR_IN', 'FIELD_TYPE_TEXT', strings('a'), ['a'], 'coercion-failed'],
  ['OPERATOR_IN', 'FIELD_TYPE_ANY', strings('active', '10'), 'active', 'true'],
  ['OPERATOR_IN', 'FIELD_TYPE_ANY', strings('active', '10'), 10, 'true'],
  ['OPERATOR_IN', 'FIELD_TYPE_ANY', strings('active', '10'), 11, 'false'],
  ['OPERATOR_IN', 'FIELD_TYPE_ANY', strings('active', 'pending'), 11, 'coercion-failed'],
  ['OPERATOR_IN', 'FIELD_TYPE_ANY', strings('true'), true, 'coercion-failed'],
  ['OPERATOR_IN', 'FIELD_TYPE_ANY', numbers(1, 2), '2', 'true'],
  ['OPERATOR_IN', 'FIELD_TYPE_ANY', numbers(1, 2), 'x', 'coercion-failed'],
  ['OPERATOR_IN', 'FIELD_TYPE_ANY', numbers(1, 2), null, 'missing'],
  // EXISTS / IS_NULL
  ['OPERATOR_EXISTS', 'FIELD_TYPE_ANY', undefined, 0, 'true'],
  ['OPERATOR_EXISTS', 'FIELD_TYPE_ANY', undefined, '', 'true'],
  ['OPERATOR_EXISTS', 'FIELD_TYPE_NUMERIC', undefined, 'not a number', 'true'],
  ['OPERATOR_EXISTS', 'FIELD_TYPE_TEXT', undefined, null, 'missing'],
  ['OPERATOR_EXISTS', 'FIELD_TYPE_BOOLEAN', undefined, ABSENT, 'missing'],
  ['OPERATOR_IS_NULL', 'FIELD_TYPE_ANY', undefined, null, 'true'],
  ['OPERATOR_IS_NULL', 'FIELD_TYPE_NUMERIC', undefined, 0, 'false'],
  ['OPERATOR_IS_NULL', 'FIELD_TYPE_TEXT', undefined, ABSENT, 'missing'],
];

describe('operators by field type', () => {
  for (const [op, fieldType, value, fieldValue, expected] of OPERATOR_CASES) {
    const shown = fieldValue === ABSENT ? 'absent' : JSON.stringify(fieldValue);
    test(`${op} ${fieldType} ${JSON.stringify(value) ?? ''}: field ${shown} -> ${expected}`, () => {
      assert.equal(outcomeOf(op, fieldType, value, fieldValue), expected);
    });
  }

  test('NaN in a non-JSON payload never equals, so NEQ holds', () => {
    assert.equal(outcomeOf('OPERATOR_EQ', 'FIELD_TYPE_NUMERIC', num(NaN), NaN), 'false');
    assert.equal(outcomeOf('OPERATOR_NEQ', 'FIELD_TYPE_NUMERIC', num(NaN), NaN), 'true');
  });
});

describe('missing and coercion policies', () => {
  const cases: [string, 'SKIP' | 'MATCH' | 'FAIL' | 'UNSPECIFIED', boolean, boolean][] = [
    ['SKIP makes the condition false', 'SKIP', false, false],
    ['MATCH makes the condition true', 'MATCH', true, false],
    ['FAIL errors the rule, which does not match', 'FAIL', false, true],
    ['UNSPECIFIED behaves as SKIP', 'UNSPECIFIED', false, false],
  ];
  const situations = [
    { name: 'a missing field', payload: {}, field: 'onMissingField', error: /orGroups\[0\]\.conditions\[0\]: temperature is missing \(onMissingField: ON_MISSING_FIELD_FAIL\)/ },
    { name: 'a null field', payload: { temperature: null }, field: 'onMissingField', error: /temperature is null \(onMissingField: ON_MISSING_FIELD_FAIL\)/ },
    { name: 'a coercion failure', payload: { temperature: 'hot' }, field: 'onCoercionFail', error: /temperature = "hot" cannot be read as FIELD_TYPE_NUMERIC for OPERATOR_GT \(onCoercionFail: ON_COERCION_FAIL_FAIL\)/ },
  ];
  for (const situation of situations) {
    for (const [title, policy, matched, errors] of cases) {
      test(`${situation.name}: ${title}`, () => {
        const c = condition({ fieldPath: path('temperature'), op: 'OPERATOR_GT', fieldType: 'FIELD_TYPE_NUMERIC', value: num(100) });
        if (situation.field === 'onMissingField') c.onMissingField = `ON_MISSING_FIELD_${policy}`;
        else c.onCoercionFail = `ON_COERCION_FAIL_${policy}`;
        const evaluation = evaluateRule(rule(groups([c])), situation.payload);
        assert.equal(evaluation.matched, matched);
        assert.equal(evaluation.sampled, true);
        if (errors) assert.match(evaluation.error ?? '', situation.error);
        else assert.equal(evaluation.error, null);
      });
    }
  }

  test('a missing-field policy does not apply to coercion failures, nor the other way round', () => {
    const c = condition({
      fieldPath: path('t'), op: 'OPERATOR_GT', fieldType: 'FIELD_TYPE_NUMERIC', value: num(1),
      onMissingField: 'ON_MISSING_FIELD_FAIL', onCoercionFail: 'ON_COERCION_FAIL_MATCH',
    });
    assert.deepEqual(evaluateRule(rule(groups([c])), { t: 'x' }).matched, true);
    assert.match(evaluateRule(rule(groups([c])), {}).error ?? '', /t is missing/);
  });

  test('EXISTS with MATCH on missing holds for an absent field', () => {
    const c = condition({ op: 'OPERATOR_EXISTS', onMissingField: 'ON_MISSING_FIELD_MATCH' });
    assert.equal(evaluateRule(rule(groups([c])), {}).matched, true);
  });

  test('IS_NULL holds for null even when missing fields FAIL, and errors only when absent', () => {
    const c = condition({ op: 'OPERATOR_IS_NULL', onMissingField: 'ON_MISSING_FIELD_FAIL' });
    assert.deepEqual(evaluateRule(rule(groups([c])), { f: null }), {
      matched: true, sampled: true, error: null,
      trace: [{ groupIndex: 0, conditionIndex: 0, field: 'f', resolvedField: 'f', value: null, compareTo: undefined, outcome: 'true', result: 'true', valuesChecked: 1 }],
    });
    assert.match(evaluateRule(rule(groups([c])), {}).error ?? '', /f is missing/);
  });
});

describe('wildcards', () => {
  const gt = (limit: number, fields: Partial<Condition> = {}) =>
    condition({ fieldPath: path('readings', '*', 'temp'), op: 'OPERATOR_GT', fieldType: 'FIELD_TYPE_NUMERIC', value: num(limit), ...fields });

  test('a wildcard matches when any element satisfies the condition, and the trace names it', () => {
    const evaluation = evaluateRule(rule(groups([gt(15)])), { readings: [{ temp: 10 }, { temp: 30 }, { temp: 50 }] });
    assert.equal(evaluation.matched, true);
    assert.deepEqual(evaluation.trace[0], {
      groupIndex: 0, conditionIndex: 0, field: 'readings[*].temp', resolvedField: 'readings[1].temp',
      value: 30, compareTo: 15, outcome: 'true', result: 'true', valuesChecked: 2,
    });
  });

  test('not only the first element is checked', () => {
    assert.equal(evaluateRule(rule(groups([gt(40)])), { readings: [{ temp: 10 }, { temp: 20 }, { temp: 50 }] }).matched, true);
  });

  test('when no element satisfies it, the trace shows the first one and how many were checked', () => {
    const evaluation = evaluateRule(rule(groups([gt(100)])), { readings: [{ temp: 10 }, { temp: 30 }] });
    assert.equal(evaluation.matched, false);
    assert.equal(evaluation.trace[0]?.resolvedField, 'readings[0].temp');
    assert.equal(evaluation.trace[0]?.valuesChecked, 2);
  });

  test('elements that fail coercion or are null are passed over', () => {
    const payload = { readings: [{ temp: 'invalid' }, { temp: null }, {}, { temp: 30 }] };
    const evaluation = evaluateRule(rule(groups([gt(15)])), payload);
    assert.equal(evaluation.matched, true);
    assert.equal(evaluation.trace[0]?.resolvedField, 'readings[3].temp');
  });

  test('an element that holds wins over an earlier element whose policy is FAIL', () => {
    const c = gt(15, { onMissingField: 'ON_MISSING_FIELD_FAIL' });
    const evaluation = evaluateRule(rule(groups([c])), { readings: [{ temp: null }, { temp: 30 }] });
    assert.deepEqual([evaluation.matched, evaluation.error], [true, null]);
  });

  test('with no element holding, a FAIL policy on one element errors and names it', () => {
    const c = gt(15, { onMissingField: 'ON_MISSING_FIELD_FAIL' });
    const evaluation = evaluateRule(rule(groups([c])), { readings: [{ temp: 5 }, { temp: null }] });
    assert.equal(evaluation.matched, false);
    assert.match(evaluation.error ?? '', /readings\[1\]\.temp is null/);
  });

  const emptyCases: [string, unknown][] = [
    ['an empty list', { readings: [] }],
    ['an empty object', { readings: {} }],
    ['a missing collection', {}],
    ['a scalar where a collection should be', { readings: 5 }],
  ];
  for (const [title, payload] of emptyCases) {
    test(`${title} under a wildcard is missing: SKIP false, MATCH true, FAIL error`, () => {
      const outcome = (policy: OnMissingField) => evaluateRule(rule(groups([gt(0, { onMissingField: policy })])), payload);
      assert.deepEqual([outcome('ON_MISSING_FIELD_SKIP').matched, outcome('ON_MISSING_FIELD_SKIP').trace[0]?.outcome], [false, 'missing']);
      assert.equal(outcome('ON_MISSING_FIELD_MATCH').matched, true);
      assert.match(outcome('ON_MISSING_FIELD_FAIL').error ?? '', /readings\[\*\]\.temp is missing/);
    });
  }

  test('a wildcard over an object walks its values in sorted key order', () => {
    const c = condition({ fieldPath: path('sensors', '*', 't'), op: 'OPERATOR_GT', value: num(40) });
    const evaluation = evaluateRule(rule(groups([c])), { sensors: { zulu: { t: 90 }, alpha: { t: 50 }, mike: { t: 1 } } });
    assert.equal(evaluation.trace[0]?.resolvedField, 'sensors["alpha"].t');
  });

  test('two nested wildcards match when any outer element has any inner element that holds', () => {
    const c = condition({ fieldPath: path('departments', '*', 'employees', '*', 'salary'), op: 'OPERATOR_GT', value: num(100000) });
    const payload = {
      departments: [
        { name: 'Sales', employees: [{ salary: 60000 }] },
        { name: 'Empty', employees: [] },
        { name: 'Engineering', employees: [{ salary: 80000 }, { salary: 120000 }] },
      ],
    };
    const evaluation = evaluateRule(rule(groups([c])), payload);
    assert.equal(evaluation.matched, true);
    assert.equal(evaluation.trace[0]?.resolvedField, 'departments[2].employees[1].salary');
    assert.equal(evaluation.trace[0]?.valuesChecked, 4);
  });

  test('CONTAINS over a wildcard of strings checks each string', () => {
    const c = condition({ fieldPath: path('tags', '*'), op: 'OPERATOR_CONTAINS', fieldType: 'FIELD_TYPE_TEXT', value: str('prod') });
    assert.equal(evaluateRule(rule(groups([c])), { tags: ['dev', 'eu-production'] }).matched, true);
  });
});

describe('paths that do not resolve', () => {
  const cases: [string, (string | number)[], unknown][] = [
    ['an index past the end of a list', ['items', 5], { items: [1, 2] }],
    ['an index on an object', ['items', 0], { items: { 0: 'zero' } }],
    ['a name on a list', ['items', 'length'], { items: [1, 2] }],
    ['a step through a scalar', ['items', 'x'], { items: 'text' }],
  ];
  for (const [title, parts, payload] of cases) {
    test(`${title} is missing`, () => {
      const c = condition({ fieldPath: path(...parts), op: 'OPERATOR_EXISTS', onMissingField: 'ON_MISSING_FIELD_MATCH' });
      const evaluation = evaluateRule(rule(groups([c])), payload);
      assert.deepEqual([evaluation.matched, evaluation.trace[0]?.outcome, evaluation.trace[0]?.value], [true, 'missing', undefined]);
    });
  }

  test('an index inside range reads the element', () => {
    const c = condition({ fieldPath: path('items', 1), op: 'OPERATOR_EQ', value: num(2) });
    assert.equal(evaluateRule(rule(groups([c])), { items: [1, 2] }).matched, true);
  });
});

describe('comparing with another field (fieldRef)', () => {
  const above = (fields: Partial<Condition> = {}) => condition({
    fieldPath: path('temp'), op: 'OPERATOR_GT', fieldType: 'FIELD_TYPE_NUMERIC', fieldRef: path('threshold'), ...fields,
  });

  test('the referenced value is coerced like the field and compared', () => {
    const evaluation = evaluateRule(rule(groups([above()])), { temp: 105, threshold: '100' });
    assert.equal(evaluation.matched, true);
    assert.deepEqual(
      [evaluation.trace[0]?.compareToField, evaluation.trace[0]?.compareTo, evaluation.trace[0]?.value],
      ['threshold', '100', 105],
    );
  });

  test('a smaller field does not match', () => {
    assert.equal(evaluateRule(rule(groups([above()])), { temp: 99, threshold: 100 }).matched, false);
  });

  test('a missing reference follows onMissingField', () => {
    assert.equal(evaluateRule(rule(groups([above()])), { temp: 105 }).trace[0]?.outcome, 'missing');
    assert.equal(evaluateRule(rule(groups([above({ onMissingField: 'ON_MISSING_FIELD_MATCH' })])), { temp: 105 }).matched, true);
    const failed = evaluateRule(rule(groups([above({ onMissingField: 'ON_MISSING_FIELD_FAIL' })])), { temp: 105, threshold: null });
    assert.match(failed.error ?? '', /threshold \(fieldRef\) is null/);
  });

  test('a reference that cannot be coerced follows onCoercionFail', () => {
    const failed = evaluateRule(rule(groups([above({ onCoercionFail: 'ON_COERCION_FAIL_FAIL' })])), { temp: 105, threshold: 'high' });
    assert.match(failed.error ?? '', /temp = 105 compared with threshold = "high" cannot be read as FIELD_TYPE_NUMERIC/);
  });

  test('a reference may index into a list', () => {
    const c = above({ fieldRef: path('limits', 1) });
    assert.equal(evaluateRule(rule(groups([c])), { temp: 5, limits: [10, 4] }).matched, true);
  });

  test('any-type equality between two fields compares a number and a numeric string', () => {
    const c = condition({ fieldPath: path('a'), op: 'OPERATOR_EQ', fieldRef: path('b') });
    assert.equal(evaluateRule(rule(groups([c])), { a: '10', b: 10 }).matched, true);
  });

  test('each wildcard element is compared with the same referenced value', () => {
    const c = condition({ fieldPath: path('r', '*'), op: 'OPERATOR_GTE', fieldType: 'FIELD_TYPE_NUMERIC', fieldRef: path('limit') });
    assert.equal(evaluateRule(rule(groups([c])), { r: [1, 2, 9], limit: 9 }).matched, true);
    assert.equal(evaluateRule(rule(groups([c])), { r: [1, 2, 8], limit: 9 }).matched, false);
  });
});

describe('array indexes out of range are a missing field (reference: "an index out of range" is missing)', () => {
  const payload = { a: [10, 20], e: [], n: [{ v: [1] }, { v: [] }] };
  const at = (onMissingField: OnMissingField, ...parts: (string | number)[]) =>
    evaluateRule(rule(groups([condition({ fieldPath: path(...parts), op: 'OPERATOR_EQ', fieldType: 'FIELD_TYPE_NUMERIC', value: num(10), onMissingField })])), payload);

  for (const [title, parts] of [
    ['one past the end', ['a', 2]],
    ['a negative index (no counting from the end)', ['a', -1]],
    ['the most negative int32', ['a', -(2 ** 31)]],
    ['the largest int32', ['a', 2 ** 31 - 1]],
    ['index 0 of an empty list', ['e', 0]],
    ['an index after a wildcard, out of range for every element', ['n', '*', 'v', 1]],
  ] as [string, (string | number)[]][]) {
    test(`${title}: SKIP does not match, MATCH matches, FAIL errors naming the path`, () => {
      assert.deepEqual([at('ON_MISSING_FIELD_SKIP', ...parts).matched, at('ON_MISSING_FIELD_SKIP', ...parts).error], [false, null]);
      assert.equal(at('ON_MISSING_FIELD_MATCH', ...parts).matched, true);
      const failed = at('ON_MISSING_FIELD_FAIL', ...parts);
      assert.equal(failed.matched, false);
      assert.match(failed.error ?? '', /is missing \(onMissingField: ON_MISSING_FIELD_FAIL\)/);
      assert.equal(failed.trace[0]?.outcome, 'missing');
    });
  }

  test('the first and last indexes are in range', () => {
    assert.equal(at('ON_MISSING_FIELD_FAIL', 'a', 0).matched, true);
    const last = at('ON_MISSING_FIELD_FAIL', 'a', 1);
    assert.deepEqual([last.matched, last.error, last.trace[0]?.value], [false, null, 20]);
  });

  test('is_null on an out-of-range index is missing, not null', () => {
    const c = condition({ fieldPath: path('a', 5), op: 'OPERATOR_IS_NULL' });
    assert.equal(evaluateRule(rule(groups([c])), payload).trace[0]?.outcome, 'missing');
  });
});

describe('sampling', () => {
  const always = rule(groups([condition({ op: 'OPERATOR_EXISTS' })]));
  const throwing = () => { throw new Error('random must not be called'); };

  test('sample rate 0 evaluates nothing and draws no random number', () => {
    const evaluation = evaluateRule({ ...always, sampleRate: 0 }, { f: 1 }, { random: throwing });
    assert.deepEqual(evaluation, { matched: false, sampled: false, error: null, trace: [] });
  });

  test('sample rate 1 always evaluates and draws no random number', () => {
    assert.deepEqual(evaluateRule(always, { f: 1 }, { random: throwing }).sampled, true);
  });

  test('an event is evaluated when the random draw is below the rate', () => {
    const at = (draw: number) => evaluateRule({ ...always, sampleRate: 0.5 }, { f: 1 }, { random: () => draw });
    assert.deepEqual([at(0.49).sampled, at(0.49).matched], [true, true]);
    assert.deepEqual([at(0.5).sampled, at(0.5).matched], [false, false]);
  });

  test('a skipped event reports no error even when the rule would have failed', () => {
    const failing = rule(groups([condition({ op: 'OPERATOR_EXISTS', onMissingField: 'ON_MISSING_FIELD_FAIL' })]), 0.5);
    assert.equal(evaluateRule(failing, {}, { random: () => 0.9 }).error, null);
    assert.notEqual(evaluateRule(failing, {}, { random: () => 0.1 }).error, null);
  });

  test('exactly at the boundaries: a draw equal to the rate is skipped, the smallest positive rate still samples a 0 draw', () => {
    const sampledAt = (sampleRate: number, draw: number) => evaluateRule({ ...always, sampleRate }, { f: 1 }, { random: () => draw }).sampled;
    assert.equal(sampledAt(0.25, 0.25), false);
    assert.equal(sampledAt(0.25, 0.25 - Number.EPSILON), true);
    assert.equal(sampledAt(Number.MIN_VALUE, 0), true);
    assert.equal(sampledAt(Number.MIN_VALUE, Number.MIN_VALUE), false);
    const largestBelowOne = 1 - Number.EPSILON / 2;
    assert.equal(sampledAt(largestBelowOne, largestBelowOne), false, 'the largest draw is skipped by a rate just below 1');
    assert.equal(sampledAt(largestBelowOne, 0.5), true);
    assert.equal(sampledAt(-0, 0), false, 'negative zero is 0: never');
  });

  test('without a given source, the draw comes from a CSPRNG, not Math.random (reference: "cryptographically secure RNG")', () => {
    const original = Math.random;
    Math.random = () => 0; // predictable: would sample every event
    try {
      let sampled = 0;
      for (let i = 0; i < 2000; i += 1) if (evaluateRule({ ...always, sampleRate: 0.5 }, { f: i }).sampled) sampled += 1;
      assert.ok(sampled > 850 && sampled < 1150, `sampled ${sampled} of 2000 at rate 0.5`);
    } finally {
      Math.random = original;
    }
  });

  test('a seeded random samples close to the rate, and the same seed gives the same events', () => {
    const sampledEvents = (seed: number) => {
      const random = seededRandom(seed);
      const picked: number[] = [];
      for (let i = 0; i < 10000; i += 1) if (evaluateRule({ ...always, sampleRate: 0.3 }, { f: i }, { random }).sampled) picked.push(i);
      return picked;
    };
    const first = sampledEvents(42);
    assert.ok(first.length > 2800 && first.length < 3200, `sampled ${first.length} of 10000 at rate 0.3`);
    assert.deepEqual(sampledEvents(42), first);
    assert.notDeepEqual(sampledEvents(7), first);
  });
});

describe('groups and conditions (OR of ANDs)', () => {
  const a = condition({ fieldPath: path('a'), op: 'OPERATOR_EQ', value: num(1) });
  const b = condition({ fieldPath: path('b'), op: 'OPERATOR_EQ', value: num(1) });
  const c = condition({ fieldPath: path('c'), op: 'OPERATOR_EQ', value: num(1) });
  const aAndBOrC = rule(groups([a, b], [c]));

  const cases: [Record<string, number>, boolean, string[]][] = [
    [{ a: 1, b: 1, c: 0 }, true, ['0.0:true', '0.1:true']],
    [{ a: 1, b: 0, c: 1 }, true, ['0.0:true', '0.1:false', '1.0:true']],
    [{ a: 0, b: 1, c: 1 }, true, ['0.0:false', '1.0:true']],
    [{ a: 1, b: 0, c: 0 }, false, ['0.0:true', '0.1:false', '1.0:false']],
    [{ a: 0, b: 0, c: 0 }, false, ['0.0:false', '1.0:false']],
    [{ a: 1, b: 1, c: 1 }, true, ['0.0:true', '0.1:true']],
  ];
  for (const [payload, matched, trace] of cases) {
    test(`(a AND b) OR c with ${JSON.stringify(payload)} -> ${matched}; trace shows the deciding conditions`, () => {
      const evaluation = evaluateRule(aAndBOrC, payload);
      assert.equal(evaluation.matched, matched);
      assert.deepEqual(evaluation.trace.map((t) => `${t.groupIndex}.${t.conditionIndex}:${t.result}`), trace);
    });
  }

  const failing = condition({ fieldPath: path('x'), op: 'OPERATOR_EXISTS', onMissingField: 'ON_MISSING_FIELD_FAIL' });

  test('an error stops evaluation: a later group that would match is not tried', () => {
    const evaluation = evaluateRule(rule(groups([failing], [c])), { c: 1 });
    assert.deepEqual([evaluation.matched, evaluation.trace.length], [false, 1]);
    assert.match(evaluation.error ?? '', /^orGroups\[0\]\.conditions\[0\]: x is missing/);
  });

  test('a condition never evaluated raises no error', () => {
    assert.deepEqual(evaluateRule(rule(groups([c], [failing])), { c: 1 }).error, null);
    assert.deepEqual(evaluateRule(rule(groups([a, failing])), { a: 0 }).error, null);
  });

  test('an empty group, refused at creation, matches nothing', () => {
    assert.equal(evaluateRule(rule(groups([])), {}).matched, false);
    assert.equal(evaluateRule(rule([]), {}).matched, false);
  });
});

describe('compiled rules and tracing', () => {
  const r = rule(groups([condition({ fieldPath: path('t'), op: 'OPERATOR_GT', value: num(5) })]));

  test('a compiled rule gives the same evaluation as evaluateRule', () => {
    const compiled = compileRule(r);
    for (const payload of [{ t: 1 }, { t: 9 }, {}, { t: 'x' }]) assert.deepEqual(compiled(payload), evaluateRule(r, payload));
  });

  test('trace: false leaves the trace empty but keeps the result and error', () => {
    assert.deepEqual(evaluateRule(r, { t: 9 }, { trace: false }), { matched: true, sampled: true, error: null, trace: [] });
    const failing = rule(groups([condition({ op: 'OPERATOR_EXISTS', onMissingField: 'ON_MISSING_FIELD_FAIL' })]));
    assert.match(evaluateRule(failing, {}, { trace: false }).error ?? '', /f is missing/);
  });

  test('the trace shows the literal compared against', () => {
    const inList = rule(groups([condition({ op: 'OPERATOR_IN', fieldType: 'FIELD_TYPE_TEXT', value: strings('a', 'b') })]));
    assert.deepEqual(evaluateRule(inList, { f: 'b' }).trace[0]?.compareTo, ['a', 'b']);
  });
});
