import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFieldPath, formatSteps, MISSING, resolvePath, visitPath, type WildcardChoice } from './field-path.js';
import { path } from './testing.js';

function resolve(payload: unknown, ...parts: (string | number)[]): unknown {
  return resolvePath(compileFieldPath(path(...parts)).steps, payload);
}

function visitAll(payload: unknown, ...parts: (string | number)[]): [unknown, string][] {
  const compiled = compileFieldPath(path(...parts));
  const seen: [unknown, string][] = [];
  visitPath(compiled.steps, payload, (value, choices: readonly WildcardChoice[]) => {
    seen.push([value, formatSteps(compiled.steps, choices)]);
    return false;
  });
  return seen;
}

describe('resolving a path without wildcards', () => {
  const cases: [string, unknown, (string | number)[], unknown][] = [
    ['a nested name', { a: { b: 3 } }, ['a', 'b'], 3],
    ['an array index', { a: [10, 20] }, ['a', 1], 20],
    ['a present null is null, not missing', { a: null }, ['a'], null],
    ['a present false', { a: false }, ['a'], false],
    ['an absent name is missing', { a: 1 }, ['b'], MISSING],
    ['an index past the end is missing', { a: [1] }, ['a', 1], MISSING],
    ['a negative index is missing, not counted from the end', { a: [1, 2] }, ['a', -1], MISSING],
    ['the largest int32 index is missing on a short list', { a: [1] }, ['a', 2 ** 31 - 1], MISSING],
    ['index 0 of an empty list is missing', { a: [] }, ['a', 0], MISSING],
    ['an index on an object is missing, even with a "0" key', { a: { 0: 'x' } }, ['a', 0], MISSING],
    ['a name on an array is missing', { a: [1, 2] }, ['a', 'length'], MISSING],
    ['a step through null is missing', { a: null }, ['a', 'b'], MISSING],
    ['a step through a scalar is missing', { a: 'text' }, ['a', 'length'], MISSING],
    ['an inherited property is missing', {}, ['constructor'], MISSING],
    ['__proto__ is missing unless the payload has it', {}, ['__proto__'], MISSING],
    ['an own __proto__ key from JSON is found', JSON.parse('{"__proto__": 5}'), ['__proto__'], 5],
    ['a path into a scalar payload is missing', 42, ['a'], MISSING],
  ];
  for (const [title, payload, parts, expected] of cases) {
    test(title, () => assert.equal(resolve(payload, ...parts), expected));
  }

  test('a wildcard in a path read as a single value is missing', () => {
    assert.equal(resolve({ a: [1] }, 'a', '*'), MISSING);
  });
});

describe('visiting the values a wildcard path reaches', () => {
  test('list elements are visited in order with their indexes', () => {
    assert.deepEqual(visitAll({ r: [{ t: 1 }, { t: 2 }] }, 'r', '*', 't'), [[1, 'r[0].t'], [2, 'r[1].t']]);
  });

  test('object values are visited in sorted key order', () => {
    const payload = { s: { b: 2, a: 1, c: 3 } };
    assert.deepEqual(visitAll(payload, 's', '*'), [[1, 's["a"]'], [2, 's["b"]'], [3, 's["c"]']]);
  });

  test('an empty list is visited once as missing', () => {
    assert.deepEqual(visitAll({ r: [] }, 'r', '*', 't'), [[MISSING, 'r[*].t']]);
  });

  test('an empty object is visited once as missing', () => {
    assert.deepEqual(visitAll({ r: {} }, 'r', '*'), [[MISSING, 'r[*]']]);
  });

  test('a wildcard over a scalar or null is missing', () => {
    assert.deepEqual(visitAll({ r: 5 }, 'r', '*'), [[MISSING, 'r[*]']]);
    assert.deepEqual(visitAll({ r: null }, 'r', '*'), [[MISSING, 'r[*]']]);
  });

  test('elements lacking the rest of the path are visited as missing', () => {
    assert.deepEqual(visitAll({ r: [{ t: 1 }, 7, { u: 2 }] }, 'r', '*', 't'), [
      [1, 'r[0].t'], [MISSING, 'r[1].t'], [MISSING, 'r[2].t'],
    ]);
  });

  test('two nested wildcards visit depth first, an empty inner list as one missing value', () => {
    const payload = { d: [{ e: [{ s: 1 }, { s: 2 }] }, { e: [] }, { e: [{ s: 3 }] }] };
    assert.deepEqual(visitAll(payload, 'd', '*', 'e', '*', 's'), [
      [1, 'd[0].e[0].s'], [2, 'd[0].e[1].s'], [MISSING, 'd[1].e[*].s'], [3, 'd[2].e[0].s'],
    ]);
  });

  test('visiting stops when the visitor says so', () => {
    const compiled = compileFieldPath(path('r', '*'));
    const seen: unknown[] = [];
    visitPath(compiled.steps, { r: [1, 2, 3] }, (value) => {
      seen.push(value);
      return value === 2;
    });
    assert.deepEqual(seen, [1, 2]);
  });
});

describe('writing a path as text', () => {
  const cases: [(string | number)[], string][] = [
    [['a', 'b'], 'a.b'],
    [['readings', '*', 'temp'], 'readings[*].temp'],
    [['sensors', 3, 'value'], 'sensors[3].value'],
    [['data', 'field.with.dots'], 'data["field.with.dots"]'],
    [['1st'], '["1st"]'],
  ];
  for (const [parts, text] of cases) {
    test(`${JSON.stringify(parts)} is written ${text}`, () => assert.equal(compileFieldPath(path(...parts)).text, text));
  }
});
