import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../errors.js';
import { describeRulesPlan, planRulesApply, type RulesPlan } from './apply-plan.js';
import type { Rule } from './model.js';
import { parseRulesFile, serializeRules } from './rules-file.js';
import { condition, groups, newRule, num, path, stored } from './testing.js';
import { RuleValidationError, type NewRule } from './validate.js';

const names = (rules: { name: string }[]) => rules.map((r) => r.name);

/** What the server would hold after carrying out the plan (edits get new ids). */
function applied(plan: RulesPlan): Rule[] {
  let next = 0;
  return [
    ...plan.unchanged,
    ...plan.change.map(({ desired }) => stored(desired, `edited-${next++}`)),
    ...plan.create.map((rule) => stored(rule, `created-${next++}`)),
  ];
}

describe('planning an apply', () => {
  const current = [
    stored(newRule('rule-b'), 'b'),
    stored(newRule('rule-c'), 'c'),
    stored(newRule('same-1'), 's1'),
    stored(newRule('same-2', { description: 'kept' }), 's2'),
  ];
  const desired = [
    newRule('rule-a'),
    newRule('rule-b', {
      state: 'RULE_STATE_ACTIVE',
      orGroups: groups([condition({ fieldPath: path('g'), op: 'OPERATOR_GT', value: num(99) })]),
    }),
    newRule('same-2', { description: 'kept' }),
    newRule('same-1'),
  ];

  test('sorts rules into create, change, remove and unchanged by name', () => {
    const plan = planRulesApply(current, desired);
    assert.deepEqual(names(plan.create), ['rule-a']);
    assert.deepEqual(plan.change.map((c) => [c.current.ruleId, c.desired.name, c.fields]), [['b', 'rule-b', ['state', 'orGroups']]]);
    assert.deepEqual(plan.remove.map((r) => r.ruleId), ['c']);
    assert.deepEqual(plan.unchanged.map((r) => r.ruleId), ['s1', 's2']);
  });

  test('describes the plan as the CLI prints it', () => {
    assert.equal(describeRulesPlan(planRulesApply(current, desired)), [
      '+ create rule-a',
      '~ change rule-b (state, orGroups)',
      '- remove rule-c',
      '2 unchanged',
    ].join('\n'));
  });

  const fieldChanges: [string, Partial<NewRule>, string][] = [
    ['description', { description: 'new' }, 'description'],
    ['state', { state: 'RULE_STATE_DISABLED' }, 'state'],
    ['action', { action: 'ACTION_DROP' }, 'action'],
    ['sample rate', { sampleRate: 0.5 }, 'sampleRate'],
    ['scope tags', { scopeTags: [{ key: 'env', value: 'prod' }] }, 'scopeTags'],
    ['a condition policy', { orGroups: groups([condition({ op: 'OPERATOR_GT', value: num(10), onMissingField: 'ON_MISSING_FIELD_MATCH' })]) }, 'orGroups'],
  ];
  for (const [title, change, field] of fieldChanges) {
    test(`a different ${title} is a change of ${field}`, () => {
      const plan = planRulesApply([stored(newRule('r'), 'id')], [newRule('r', change)]);
      assert.deepEqual(plan.change.map((c) => c.fields), [[field]]);
    });
  }

  test('applying the plan and planning again changes nothing', () => {
    const plan = planRulesApply(current, desired);
    const again = planRulesApply(applied(plan), desired);
    assert.deepEqual([again.create, again.change, again.remove], [[], [], []]);
    assert.equal(describeRulesPlan(again), '4 unchanged');
  });

  test('a file exported from the server and applied as is changes nothing', () => {
    const server = [
      ...current,
      stored(newRule('legacy', {
        orGroups: groups([condition({ op: 'OPERATOR_EXISTS', fieldType: 'FIELD_TYPE_UNSPECIFIED', onCoercionFail: 'ON_COERCION_FAIL_UNSPECIFIED' })]),
      }), 'l'),
    ];
    const plan = planRulesApply(server, parseRulesFile(serializeRules(server), 'rules.yaml'));
    assert.deepEqual(plan.unchanged.map((r) => r.ruleId), ['l', 'b', 'c', 's1', 's2']);
  });

  test('key order and UNSPECIFIED zero values do not count as changes', () => {
    const reordered = JSON.parse(JSON.stringify(stored(newRule('r'), 'id'), ['sampleRate', 'scopeTags', 'orGroups', 'conditions', 'value', 'numericValue',
      'onCoercionFail', 'onMissingField', 'fieldType', 'op', 'fieldPath', 'segments', 'fieldName', 'groupIndex', 'action', 'state', 'description', 'name', 'ruleId', 'createdAt'])) as Rule;
    const desiredRule = newRule('r', { state: 'RULE_STATE_UNSPECIFIED' });
    assert.deepEqual(names(planRulesApply([reordered], [desiredRule]).unchanged), ['r']);
  });

  test('an empty desired set removes every rule', () => {
    assert.equal(describeRulesPlan(planRulesApply(current, [])), '- remove rule-b\n- remove rule-c\n- remove same-1\n- remove same-2\n0 unchanged');
  });

  test('several server rules with a name not in the file are all removed', () => {
    const plan = planRulesApply([stored(newRule('twin'), '1'), stored(newRule('twin'), '2')], []);
    assert.deepEqual(plan.remove.map((r) => r.ruleId), ['1', '2']);
  });

  test('several server rules with a declared name are refused as ambiguous', () => {
    assert.throws(
      () => planRulesApply([stored(newRule('twin'), '1'), stored(newRule('twin'), '2')], [newRule('twin')]),
      (error: unknown) => error instanceof UserError && /several rules named "twin"/.test(error.message),
    );
  });

  test('declared rules repeating a name are refused', () => {
    assert.throws(
      () => planRulesApply([], [newRule('x'), newRule('x')]),
      (error: unknown) => error instanceof UserError && /repeat the name "x"/.test(error.message),
    );
  });

  test('an invalid declared rule is refused with its validation error', () => {
    assert.throws(() => planRulesApply([], [newRule('bad', { sampleRate: 2 })]), RuleValidationError);
  });
});
