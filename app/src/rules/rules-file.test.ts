import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../errors.js';
import type { Rule } from './model.js';
import { parseRulesFile, RulesFileError, serializeRules } from './rules-file.js';
import { bool, condition, groups, newRule, num, numbers, path, stored, str, strings } from './testing.js';
import { parseRuleInput, type NewRule } from './validate.js';

/** Rules exercising every kind of value, path segment and awkward string. */
const VARIED: NewRule[] = [
  newRule('zeta: every value kind', {
    description: 'Line one\nline two: with a colon\n  indented # not a comment\n',
    state: 'RULE_STATE_ACTIVE',
    action: 'ACTION_DROP',
    sampleRate: 0.1,
    scopeTags: [{ key: 'env', value: 'prod' }, { key: 'region', value: 'eu-west-1' }],
    orGroups: groups(
      [
        condition({ fieldPath: path('readings', '*', 'temp'), op: 'OPERATOR_GTE', fieldType: 'FIELD_TYPE_NUMERIC', value: num(1e21) }),
        condition({ fieldPath: path('sensor', 'id'), op: 'OPERATOR_PREFIX', fieldType: 'FIELD_TYPE_TEXT', value: str('true') }),
        condition({ fieldPath: path('ok'), op: 'OPERATOR_EQ', fieldType: 'FIELD_TYPE_BOOLEAN', value: bool(false), onMissingField: 'ON_MISSING_FIELD_FAIL' }),
      ],
      [
        condition({ fieldPath: path('status'), op: 'OPERATOR_IN', fieldType: 'FIELD_TYPE_TEXT', value: strings('123', '', 'yes', 'x: y', '- item', '#tag', 'ünïcödé 🔥') }),
        condition({ fieldPath: path('code'), op: 'OPERATOR_IN', fieldType: 'FIELD_TYPE_NUMERIC', value: numbers(0.1, -0.5, 1e-7, 404) }),
      ],
      [
        condition({ fieldPath: path('a.b', 0, '*', '*'), op: 'OPERATOR_LT', fieldRef: path('limits', 2), onCoercionFail: 'ON_COERCION_FAIL_MATCH' }),
        condition({ fieldPath: path('x'), op: 'OPERATOR_IS_NULL', fieldType: 'FIELD_TYPE_TEXT' }),
        condition({ fieldPath: path('y'), op: 'OPERATOR_EQ', value: str('') }),
      ],
    ),
  }),
  newRule('alpha', { state: 'RULE_STATE_DISABLED', action: 'ACTION_FAIL', sampleRate: 0 }),
  newRule('Mid "quoted" name', { description: 'null' }),
  newRule('42'),
];

describe('writing and reading back a rules file', () => {
  test('export then parse gives back equal rules, sorted by name', () => {
    const text = serializeRules(VARIED);
    const sorted = [...VARIED].sort((a, b) => (a.name < b.name ? -1 : 1));
    assert.deepEqual(parseRulesFile(text, 'rules.yaml'), sorted);
  });

  test('stored rules are written without their id and creation time', () => {
    const text = serializeRules(VARIED.map((rule, i) => stored(rule, `id-${i}`)));
    assert.doesNotMatch(text, /ruleId|createdAt|id-0/);
    assert.equal(text, serializeRules(VARIED));
  });

  test('the output is stable: the same rules in any order write the same text', () => {
    assert.equal(serializeRules([...VARIED].reverse()), serializeRules(VARIED));
  });

  test('defaults that parsing fills back in are left out', () => {
    const text = serializeRules([newRule('plain')]);
    assert.equal(text, [
      '# TrapperKeeper rules, matched to the server\'s rules by name. Each rule is the proto3 JSON',
      '# mapping of trapperkeeper.sensor.v1.Rule plus description; left-out fields take their defaults.',
      '',
      'rules:',
      '  - name: plain',
      '    state: RULE_STATE_DRAFT',
      '    action: ACTION_OBSERVE',
      '    orGroups:',
      '      - conditions:',
      '          - fieldPath: { segments: [ { fieldName: f } ] }',
      '            op: OPERATOR_GT',
      '            fieldType: FIELD_TYPE_ANY',
      '            value: { numericValue: 10 }',
      '',
    ].join('\n'));
  });

  test('a stored rule with UNSPECIFIED enums is written in canonical form', () => {
    const legacy: Rule = stored(newRule('legacy', {
      orGroups: groups([condition({ op: 'OPERATOR_EXISTS', fieldType: 'FIELD_TYPE_UNSPECIFIED', onMissingField: 'ON_MISSING_FIELD_UNSPECIFIED' })]),
    }), 'id');
    const text = serializeRules([legacy]);
    assert.doesNotMatch(text, /UNSPECIFIED/);
    assert.deepEqual(parseRulesFile(text, 'rules.yaml'), [parseRuleInput({ ...newRule('legacy'), orGroups: legacy.orGroups })]);
  });

  test('an empty rule set writes a file that reads back as no rules', () => {
    assert.deepEqual(parseRulesFile(serializeRules([]), 'rules.yaml'), []);
  });
});

describe('reading a rules file', () => {
  const yamlRule = [
    '  - name: too-hot',
    '    orGroups:',
    '      - conditions:',
    '          - field_path: { segments: [ { field_name: temperature } ] }',
    '            op: OPERATOR_GT',
    '            value: { numeric_value: 100 }',
  ].join('\n');

  test('reads YAML with snake_case fields and fills defaults', () => {
    const [rule] = parseRulesFile(`rules:\n${yamlRule}\n`, 'rules.yml');
    assert.deepEqual(rule, parseRuleInput({
      name: 'too-hot',
      orGroups: [{ conditions: [{ fieldPath: path('temperature'), op: 'OPERATOR_GT', value: num(100) }] }],
    }));
  });

  test('reads a bare list of rules', () => {
    assert.equal(parseRulesFile(yamlRule.replace(/^ {2}/gm, ''), 'rules.yaml')[0]?.name, 'too-hot');
  });

  test('reads JSON, by file extension or as YAML', () => {
    const json = JSON.stringify({ rules: [newRule('j')] });
    assert.deepEqual(parseRulesFile(json, 'rules.json'), [newRule('j')]);
    assert.deepEqual(parseRulesFile(json, 'rules.txt'), [newRule('j')]);
  });

  const failures: [string, string, string, RegExp][] = [
    ['an empty file', '', 'rules.yaml', /^rules\.yaml: is empty; write "rules: \[\]"/],
    ['a comment-only file', '# nothing\n', 'rules.yaml', /is empty/],
    ['broken YAML, with its line', 'rules:\n  - name: x\n   bad: [\n', 'rules.yaml', /^rules\.yaml: is not valid YAML: .*line 3/],
    ['broken JSON', '{"rules": [}', 'rules.json', /^rules\.json: is not valid JSON/],
    ['an unknown top-level key', 'rules: []\nversion: 2\n', 'rules.yaml', /unknown top-level key "version"/],
    ['rules that are not a list', 'rules: {}\n', 'rules.yaml', /"rules" must be a list of rules, got an object/],
    ['a missing rules key', 'other: 1\n', 'rules.yaml', /unknown top-level key "other"/],
    ['a scalar document', 'hello\n', 'rules.yaml', /must hold a "rules:" list, got text/],
  ];
  for (const [title, text, fileName, message] of failures) {
    test(`${title} is refused, naming the file`, () => {
      assert.throws(() => parseRulesFile(text, fileName), (error: unknown) => {
        assert.ok(error instanceof RulesFileError && error instanceof UserError);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  test('a bad rule is reported with the file, rule name, index, line and field path', () => {
    const text = `rules:\n${yamlRule}\n  - name: broken\n    orGroups:\n      - conditions: []\n`;
    assert.throws(() => parseRulesFile(text, 'team/rules.yaml'), (error: unknown) => {
      assert.ok(error instanceof RulesFileError);
      assert.equal(error.message, 'team/rules.yaml: rule "broken" (rules[1], line 8): orGroups[0].conditions: '
        + 'must hold at least one condition: an empty group is not allowed');
      assert.deepEqual(error.issues, [{ path: 'rules[1].orGroups[0].conditions', message: 'must hold at least one condition: an empty group is not allowed' }]);
      return true;
    });
  });

  test('every problem in the file is reported at once; an unnamed rule is named by index', () => {
    const text = JSON.stringify({ rules: [{ orGroups: [] }, newRule('dup'), newRule('dup'), { ...newRule('x'), sampleRate: 3 }] });
    assert.throws(() => parseRulesFile(text, 'rules.json'), (error: unknown) => {
      assert.ok(error instanceof RulesFileError);
      assert.deepEqual(error.issues.map((i) => i.path), ['rules[0].name', 'rules[0].orGroups', 'rules[2].name', 'rules[3].sampleRate']);
      assert.match(error.message, /^rules\.json has 4 problems:\n {2}- \(rules\[0\]\): name: is required\n/);
      assert.match(error.message, /- rule "dup" \(rules\[2\]\): name: repeats the name of rules\[1\]/);
      assert.match(error.message, /- rule "x" \(rules\[3\]\): sampleRate: must be between 0 and 1/);
      return true;
    });
  });

  test('names differing only in case are different rules', () => {
    assert.equal(parseRulesFile(JSON.stringify([newRule('a'), newRule('A')]), 'r.json').length, 2);
  });
});
