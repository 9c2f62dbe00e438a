import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';
import {
  activeRulesForTags, activeRuleVersions, createRule, deleteRule, editRule, getRule, getRuleByName, isCurrent, listRules,
  loadActiveRuleSet, RuleNameTakenError, RuleNotFoundError, rulesForTags, scopeMatches, setRuleState,
} from '../../src/db/rules.js';
import { DEFAULT_TENANT_ID } from '../../src/db/types.js';
import type { NewRule } from '../../src/rules/validate.js';
import { equalsRule } from '../grpc/fixtures.js';

const T = DEFAULT_TENANT_ID;

/** A rule using every kind of condition value, to prove the JSON columns round-trip. */
const everyValueKind: NewRule = {
  name: 'every value kind',
  description: 'round trip',
  state: 'RULE_STATE_DRAFT',
  action: 'ACTION_DROP',
  sampleRate: 0,
  scopeTags: [{ key: 'env', value: 'prod' }],
  orGroups: [
    {
      groupIndex: 0,
      conditions: [
        { fieldPath: { segments: [{ fieldName: 'a' }, { wildcard: {} }, { arrayIndex: 2 }] }, op: 'OPERATOR_IN', value: { stringArray: { values: ['x', 'y'] } }, fieldType: 'FIELD_TYPE_TEXT', onMissingField: 'ON_MISSING_FIELD_MATCH', onCoercionFail: 'ON_COERCION_FAIL_FAIL' },
        { fieldPath: { segments: [{ fieldName: 'b' }] }, op: 'OPERATOR_IN', value: { numericArray: { values: [1.5, -2] } }, fieldType: 'FIELD_TYPE_NUMERIC', onMissingField: 'ON_MISSING_FIELD_SKIP', onCoercionFail: 'ON_COERCION_FAIL_SKIP' },
      ],
    },
    {
      groupIndex: 1,
      conditions: [
        { fieldPath: { segments: [{ fieldName: 'c' }] }, op: 'OPERATOR_EQ', value: { booleanValue: false }, fieldType: 'FIELD_TYPE_BOOLEAN', onMissingField: 'ON_MISSING_FIELD_SKIP', onCoercionFail: 'ON_COERCION_FAIL_SKIP' },
        { fieldPath: { segments: [{ fieldName: 'd' }] }, op: 'OPERATOR_EQ', value: { nullValue: 'NULL_VALUE_UNSPECIFIED' }, fieldType: 'FIELD_TYPE_ANY', onMissingField: 'ON_MISSING_FIELD_SKIP', onCoercionFail: 'ON_COERCION_FAIL_SKIP' },
        { fieldPath: { segments: [{ fieldName: 'e' }] }, op: 'OPERATOR_LT', fieldRef: { segments: [{ fieldName: 'f' }] }, fieldType: 'FIELD_TYPE_NUMERIC', onMissingField: 'ON_MISSING_FIELD_SKIP', onCoercionFail: 'ON_COERCION_FAIL_SKIP' },
      ],
    },
  ],
};

describe('scopeMatches', () => {
  test('a rule without scope tags is served to every sensor', () => {
    assert.equal(scopeMatches([], []), true);
    assert.equal(scopeMatches([], ['env=prod']), true);
  });
  test('each scope tag must be matched by a key=value tag or a bare value', () => {
    const scope = [{ key: 'env', value: 'prod' }, { key: 'region', value: 'eu' }];
    assert.equal(scopeMatches(scope, ['env=prod', 'region=eu']), true);
    assert.equal(scopeMatches(scope, ['prod', 'eu']), true);
    assert.equal(scopeMatches(scope, ['env=prod']), false);
    assert.equal(scopeMatches(scope, ['env=eu', 'region=prod']), false);
    assert.equal(scopeMatches(scope, ['env=prod', 'zone=eu']), false);
    assert.equal(scopeMatches(scope, []), false);
  });
  test('a value containing "=" is split at the first "="', () => {
    assert.equal(scopeMatches([{ key: 'q', value: 'a=b' }], ['q=a=b']), true);
  });
});

for (const dialect of DIALECTS) {
  describe(`rule repository on ${dialect}`, () => {
    let test_: TestDatabase;
    before(async () => {
      test_ = await createTestDatabase(dialect);
    });
    after(async () => {
      await test_?.drop();
    });

    test('a created rule reads back exactly, conditions and scope tags included', async () => {
      const created = await createRule(test_.db, T, everyValueKind);
      assert.match(created.ruleId, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
      assert.match(created.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const { ruleId, createdAt, ...rest } = created;
      assert.deepEqual(rest, everyValueKind);
      assert.deepEqual(await getRule(test_.db, T, ruleId), created);
      assert.deepEqual(await getRuleByName(test_.db, T, 'every value kind'), created);
      assert.equal(await getRule(test_.db, '00000000-0000-7000-8000-0000000000ff', ruleId), undefined);
    });

    test('names are unique among live rules', async () => {
      await createRule(test_.db, T, equalsRule('unique name', 'a', 1));
      await assert.rejects(createRule(test_.db, T, equalsRule('unique name', 'b', 2)), RuleNameTakenError);
    });

    test('listRules orders by name, filters by state and hides deleted rules', async () => {
      const draft = await createRule(test_.db, T, equalsRule('list b draft', 'x', 1, { state: 'RULE_STATE_DRAFT' }));
      const active = await createRule(test_.db, T, equalsRule('list a active', 'x', 1));
      const gone = await createRule(test_.db, T, equalsRule('list c deleted', 'x', 1));
      await deleteRule(test_.db, T, gone.ruleId);
      const names = (await listRules(test_.db, T)).map((rule) => rule.name).filter((name) => name.startsWith('list '));
      assert.deepEqual(names, ['list a active', 'list b draft']);
      const drafts = await listRules(test_.db, T, { states: ['RULE_STATE_DRAFT'] });
      assert.ok(drafts.some((rule) => rule.ruleId === draft.ruleId));
      assert.ok(!drafts.some((rule) => rule.ruleId === active.ruleId));
      assert.deepEqual(await listRules(test_.db, T, { states: [] }), []);
      assert.equal(await getRule(test_.db, T, gone.ruleId), undefined);
      await assert.rejects(deleteRule(test_.db, T, gone.ruleId), RuleNotFoundError);
    });

    test('an edit creates a new rule id and soft-deletes the old one', async () => {
      const original = await createRule(test_.db, T, equalsRule('edited', 'x', 1));
      const edited = await editRule(test_.db, T, original.ruleId, equalsRule('edited', 'x', 2));
      assert.notEqual(edited.ruleId, original.ruleId);
      assert.equal(await getRule(test_.db, T, original.ruleId), undefined);
      assert.deepEqual(edited.orGroups[0]?.conditions[0]?.value, { numericValue: 2 });
      assert.equal((await getRuleByName(test_.db, T, 'edited'))?.ruleId, edited.ruleId);
      await assert.rejects(editRule(test_.db, T, original.ruleId, equalsRule('edited', 'x', 3)), RuleNotFoundError);
    });

    test('an edit that would take another rule\'s name changes nothing', async () => {
      await createRule(test_.db, T, equalsRule('edit target taken', 'x', 1));
      const mine = await createRule(test_.db, T, equalsRule('edit mine', 'x', 1));
      await assert.rejects(editRule(test_.db, T, mine.ruleId, equalsRule('edit target taken', 'x', 1)), RuleNameTakenError);
      assert.deepEqual(await getRule(test_.db, T, mine.ruleId), mine);
    });

    test('setRuleState changes the state in place', async () => {
      const rule = await createRule(test_.db, T, equalsRule('stateful', 'x', 1, { state: 'RULE_STATE_DRAFT' }));
      const active = await setRuleState(test_.db, T, rule.ruleId, 'RULE_STATE_ACTIVE');
      assert.equal(active.ruleId, rule.ruleId);
      assert.equal(active.state, 'RULE_STATE_ACTIVE');
      await assert.rejects(setRuleState(test_.db, T, '00000000-0000-7000-8000-00000000dead', 'RULE_STATE_ACTIVE'), RuleNotFoundError);
    });

    test('activeRulesForTags serves only active live rules in scope, with an ETag that tracks them', async () => {
      const tenant = '00000000-0000-7000-8000-000000000001';
      const first = await activeRulesForTags(test_.db, tenant, ['sync=yes']);
      const everywhere = await createRule(test_.db, tenant, equalsRule('sync everywhere', 'x', 1));
      const scoped = await createRule(test_.db, tenant, equalsRule('sync scoped', 'x', 1, { scopeTags: [{ key: 'sync', value: 'yes' }] }));
      const elsewhere = await createRule(test_.db, tenant, equalsRule('sync elsewhere', 'x', 1, { scopeTags: [{ key: 'sync', value: 'no' }] }));
      const disabled = await createRule(test_.db, tenant, equalsRule('sync disabled', 'x', 1, { state: 'RULE_STATE_DISABLED' }));

      const served = await activeRulesForTags(test_.db, tenant, ['sync=yes']);
      const ids = served.rules.map((rule) => rule.ruleId);
      assert.ok(ids.includes(everywhere.ruleId) && ids.includes(scoped.ruleId));
      assert.ok(!ids.includes(elsewhere.ruleId) && !ids.includes(disabled.ruleId));
      assert.match(served.etag, /^[0-9a-f]{64}$/);
      assert.notEqual(served.etag, first.etag);
      assert.equal((await activeRulesForTags(test_.db, tenant, ['sync=yes'])).etag, served.etag, 'stable when nothing changed');

      await setRuleState(test_.db, tenant, scoped.ruleId, 'RULE_STATE_DISABLED');
      const afterDisable = await activeRulesForTags(test_.db, tenant, ['sync=yes']);
      assert.ok(!afterDisable.rules.some((rule) => rule.ruleId === scoped.ruleId));
      assert.notEqual(afterDisable.etag, served.etag);

      const edited = await editRule(test_.db, tenant, everywhere.ruleId, equalsRule('sync everywhere', 'x', 5));
      const afterEdit = await activeRulesForTags(test_.db, tenant, ['sync=yes']);
      assert.ok(afterEdit.rules.some((rule) => rule.ruleId === edited.ruleId));
      assert.ok(!afterEdit.rules.some((rule) => rule.ruleId === everywhere.ruleId));
      assert.notEqual(afterEdit.etag, afterDisable.etag);

      // A change to a rule the sensor is not served leaves its ETag alone.
      await setRuleState(test_.db, tenant, elsewhere.ruleId, 'RULE_STATE_DISABLED');
      assert.equal((await activeRulesForTags(test_.db, tenant, ['sync=yes'])).etag, afterEdit.etag);
    });

    test('a loaded active rule set stays current until a rule is activated, edited, disabled or deleted', async () => {
      let loaded = await loadActiveRuleSet(test_.db, T);
      const current = async () => isCurrent(loaded, await activeRuleVersions(test_.db, T));
      assert.ok(await current());
      const draft = await createRule(test_.db, T, equalsRule('versions rule', 'v', 1, { state: 'RULE_STATE_DRAFT' }));
      await createRule(test_.db, T, equalsRule('versions disabled rule', 'v', 1, { state: 'RULE_STATE_DISABLED' }));
      assert.ok(await current(), 'rules that are not active change nothing');
      assert.deepEqual(loaded.rules, await listRules(test_.db, T, { states: ['RULE_STATE_ACTIVE'] }));

      let ruleId = draft.ruleId;
      const changes: [string, () => Promise<unknown>][] = [
        ['activated', () => setRuleState(test_.db, T, ruleId, 'RULE_STATE_ACTIVE')],
        ['edited', async () => {
          ruleId = (await editRule(test_.db, T, ruleId, equalsRule('versions rule', 'v', 2))).ruleId;
        }],
        ['disabled', () => setRuleState(test_.db, T, ruleId, 'RULE_STATE_DISABLED')],
        ['activated again', () => setRuleState(test_.db, T, ruleId, 'RULE_STATE_ACTIVE')],
        ['deleted', () => deleteRule(test_.db, T, ruleId)],
      ];
      for (const [change, apply] of changes) {
        await apply();
        assert.equal(await current(), false, `a rule ${change} makes the loaded set stale`);
        loaded = await loadActiveRuleSet(test_.db, T);
        assert.ok(await current(), `reloaded after the rule was ${change}`);
        assert.deepEqual(loaded.rules, await listRules(test_.db, T, { states: ['RULE_STATE_ACTIVE'] }));
        assert.deepEqual(rulesForTags(loaded, ['env=prod']), await activeRulesForTags(test_.db, T, ['env=prod']));
      }
    });
  });
}
