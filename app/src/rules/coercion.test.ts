import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { looseEquals, toBoolean, toNumber, toText } from './coercion.js';

describe('numeric coercion', () => {
  const cases: [string, unknown, number | undefined][] = [
    ['a JSON number is itself', 10, 10],
    ['a negative fraction is itself', -2.5, -2.5],
    ['an integer string', '10', 10],
    ['an exponent string', '1e3', 1000],
    ['a padded string is trimmed', ' 5 ', 5],
    ['a tab-and-newline padded string is trimmed', '\t7\n', 7],
    ['a signed decimal string', '-2.5', -2.5],
    ['a plus-signed string', '+3', 3],
    ['a leading-dot string', '.5', 0.5],
    ['an empty string fails', '', undefined],
    ['a blank string fails', '   ', undefined],
    ['trailing garbage fails', '12abc', undefined],
    ['a word fails', 'abc', undefined],
    ['hex fails', '0x10', undefined],
    ['"Infinity" fails', 'Infinity', undefined],
    ['"NaN" fails', 'NaN', undefined],
    ['digit separators fail', '1_000', undefined],
    ['true fails', true, undefined],
    ['false fails', false, undefined],
    ['an object fails', { a: 1 }, undefined],
    ['a list fails', [1], undefined],
  ];
  for (const [title, input, expected] of cases) {
    test(`${title}: ${JSON.stringify(input)} -> ${String(expected)}`, () => {
      assert.equal(toNumber(input), expected);
    });
  }
});

describe('text coercion', () => {
  const cases: [string, unknown, string | undefined][] = [
    ['a string is itself', 'abc', 'abc'],
    ['a string keeps its spaces', ' a ', ' a '],
    ['an integer in shortest form', 100, '100'],
    ['a fraction in shortest form', 1.5, '1.5'],
    ['a float sum in round-trip form', 0.1 + 0.2, '0.30000000000000004'],
    ['a large number in exponent form', 1e21, '1e+21'],
    ['a small number in exponent form', 1e-7, '1e-7'],
    ['negative zero as 0', -0, '0'],
    ['true as "true"', true, 'true'],
    ['false as "false"', false, 'false'],
    ['an object fails', { a: 1 }, undefined],
    ['a list fails', ['a'], undefined],
  ];
  for (const [title, input, expected] of cases) {
    test(`${title}: ${String(input)} -> ${String(expected)}`, () => {
      assert.equal(toText(input), expected);
    });
  }
});

describe('boolean coercion', () => {
  const cases: [unknown, boolean | undefined][] = [
    [true, true], [false, false], ['true', undefined], ['false', undefined], [1, undefined], [0, undefined], [{}, undefined],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} -> ${String(expected)}`, () => {
      assert.equal(toBoolean(input), expected);
    });
  }
});

describe('any-type equality', () => {
  const cases: [string, unknown, unknown, boolean | undefined][] = [
    ['equal numbers', 25, 25, true],
    ['different numbers', 25, 26, false],
    ['a number equals its numeric string', 25, '25', true],
    ['a numeric string equals its number', '25', 25, true],
    ['a number equals an exponent string of the same value', 10, '1e1', true],
    ['a number equals a padded numeric string', 10, ' 10 ', true],
    ['a number differs from another numeric string', 10, '11', false],
    ['equal strings', 'a', 'a', true],
    ['two strings compare as text, not numbers', '10', '10.0', false],
    ['a number and a non-numeric string are not comparable', 5, 'abc', undefined],
    ['a boolean and a string are not comparable', true, 'true', undefined],
    ['a boolean and a number are not comparable', true, 1, undefined],
    ['equal booleans', false, false, true],
    ['objects are not comparable', {}, {}, undefined],
    ['NaN never equals NaN', NaN, NaN, false],
  ];
  for (const [title, a, b, expected] of cases) {
    test(`${title}`, () => {
      assert.equal(looseEquals(a, b), expected);
    });
  }
});
