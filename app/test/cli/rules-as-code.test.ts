import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { listRules } from '../../src/db/rules.js';
import { DEFAULT_TENANT_ID } from '../../src/db/types.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';
import { assertSucceeded, killChildren, runCli, Workspace, type CliResult } from './harness.js';

const RULES_YAML = `rules:
  - name: temperature-too-high
    description: Sensors reporting overheating
    state: RULE_STATE_ACTIVE
    action: ACTION_OBSERVE
    orGroups:
      - conditions:
          - fieldPath: { segments: [ { fieldName: temperature } ] }
            op: OPERATOR_GT
            fieldType: FIELD_TYPE_NUMERIC
            value: { numericValue: 100 }
  - name: drop-debug-logs
    state: RULE_STATE_ACTIVE
    action: ACTION_DROP
    scopeTags: [ { key: env, value: prod } ]
    orGroups:
      - conditions:
          - fieldPath: { segments: [ { fieldName: level } ] }
            op: OPERATOR_EQ
            fieldType: FIELD_TYPE_TEXT
            value: { stringValue: debug }
  - name: user-id-required
    state: RULE_STATE_DRAFT
    action: ACTION_FAIL
    sampleRate: 0.5
    orGroups:
      - conditions:
          - fieldPath: { segments: [ { fieldName: user }, { fieldName: id } ] }
            op: OPERATOR_EXISTS
            fieldType: FIELD_TYPE_ANY
            onMissingField: ON_MISSING_FIELD_MATCH
      - conditions:
          - fieldPath: { segments: [ { fieldName: region } ] }
            op: OPERATOR_IN
            fieldType: FIELD_TYPE_TEXT
            value: { stringArray: { values: [ eu-west, us-east ] } }
`;

/** Three mistakes at once: an unknown operator, an empty group, a repeated name. */
const INVALID_YAML = `rules:
  - name: bad-operator
    state: RULE_STATE_ACTIVE
    action: ACTION_OBSERVE
    orGroups:
      - conditions:
          - fieldPath: { segments: [ { fieldName: temperature } ] }
            op: OPERATOR_BIGGER
            fieldType: FIELD_TYPE_NUMERIC
            value: { numericValue: 100 }
  - name: empty-group
    state: RULE_STATE_ACTIVE
    action: ACTION_OBSERVE
    orGroups:
      - conditions: []
  - name: bad-operator
    state: RULE_STATE_ACTIVE
    action: ACTION_OBSERVE
    orGroups:
      - conditions:
          - fieldPath: { segments: [ { fieldName: level } ] }
            op: OPERATOR_EXISTS
            fieldType: FIELD_TYPE_ANY
`;

function ok(result: CliResult, what: string): string {
  return assertSucceeded(result, what).stdout;
}

describe('rules as code through the trapperkeeper command', { concurrency: DIALECTS.length }, () => {
  after(killChildren);

  for (const dialect of DIALECTS) {
    describe(dialect, { concurrency: 1 }, () => {
      let database: TestDatabase | undefined;
      const workspace = new Workspace();
      const cli = (...args: string[]) => runCli(workspace, [...args, '--db-url', database!.url]);
      const ruleIds = async () =>
        Object.fromEntries((await listRules(database!.db, DEFAULT_TENANT_ID)).map((rule) => [rule.name, rule.ruleId]));
      let idsAfterCreate: Record<string, string> = {};

      before(async () => {
        database = await createTestDatabase(dialect);
        writeFileSync(workspace.path('rules.yaml'), RULES_YAML);
        writeFileSync(workspace.path('invalid.yaml'), INVALID_YAML);
      });
      after(async () => {
        await database?.drop();
        workspace.remove();
      });

      test('rules apply creates every rule in the file and prints the plan', async () => {
        const stdout = ok(await cli('rules', 'apply', '-f', 'rules.yaml'), 'rules apply');
        assert.equal(
          stdout,
          '+ create drop-debug-logs\n+ create temperature-too-high\n+ create user-id-required\n0 unchanged\napplied 3 change(s)\n',
        );
        const rules = await listRules(database!.db, DEFAULT_TENANT_ID);
        assert.deepEqual(rules.map((rule) => rule.name), ['drop-debug-logs', 'temperature-too-high', 'user-id-required']);
        const fail = rules.find((rule) => rule.name === 'user-id-required')!;
        assert.equal(fail.state, 'RULE_STATE_DRAFT');
        assert.equal(fail.action, 'ACTION_FAIL');
        assert.equal(fail.sampleRate, 0.5);
        assert.equal(fail.orGroups.length, 2);
        assert.deepEqual(rules.find((rule) => rule.name === 'drop-debug-logs')!.scopeTags, [{ key: 'env', value: 'prod' }]);
        idsAfterCreate = await ruleIds();
      });

      test('rules export writes YAML that, applied again, changes nothing and keeps every rule id', async () => {
        const [toStdout, toFile] = await Promise.all([cli('rules', 'export'), cli('rules', 'export', '-o', 'exported-to-file.yaml')]);
        const exported = ok(toStdout, 'rules export');
        ok(toFile, 'rules export -o');
        assert.equal((parseYaml(exported) as { rules: unknown[] }).rules.length, 3);
        writeFileSync(workspace.path('exported.yaml'), exported);
        assert.equal(readFileSync(workspace.path('exported-to-file.yaml'), 'utf8'), exported);

        const stdout = ok(await cli('rules', 'apply', '-f', 'exported.yaml'), 'rules apply (exported)');
        assert.equal(stdout, '3 unchanged\nnothing to change\n');
        assert.deepEqual(await ruleIds(), idsAfterCreate);
      });

      test('rules apply --dry-run prints the plan for an edit and changes nothing', async () => {
        const exported = readFileSync(workspace.path('exported.yaml'), 'utf8');
        const edited = exported.replace('value: { numericValue: 100 }', 'value: { numericValue: 120 }');
        assert.notEqual(edited, exported, 'the export holds the threshold as written');
        writeFileSync(workspace.path('edited.yaml'), edited);

        const stdout = ok(await cli('rules', 'apply', '-f', 'edited.yaml', '--dry-run'), 'rules apply --dry-run');
        assert.equal(stdout, '~ change temperature-too-high (orGroups)\n2 unchanged\ndry run: nothing changed\n');
        assert.deepEqual(await ruleIds(), idsAfterCreate);
        const rules = await listRules(database!.db, DEFAULT_TENANT_ID);
        const temperature = rules.find((rule) => rule.name === 'temperature-too-high')!;
        assert.deepEqual(temperature.orGroups[0]!.conditions[0]!.value, { numericValue: 100 });
      });

      test('editing one rule in the file and applying changes exactly that rule and gives it a new id', async () => {
        const stdout = ok(await cli('rules', 'apply', '-f', 'edited.yaml'), 'rules apply (edited)');
        assert.equal(stdout, '~ change temperature-too-high (orGroups)\n2 unchanged\napplied 1 change(s)\n');
        const ids = await ruleIds();
        assert.notEqual(ids['temperature-too-high'], idsAfterCreate['temperature-too-high']);
        assert.equal(ids['drop-debug-logs'], idsAfterCreate['drop-debug-logs']);
        assert.equal(ids['user-id-required'], idsAfterCreate['user-id-required']);
        const rules = await listRules(database!.db, DEFAULT_TENANT_ID);
        const temperature = rules.find((rule) => rule.name === 'temperature-too-high')!;
        assert.deepEqual(temperature.orGroups[0]!.conditions[0]!.value, { numericValue: 120 });
        assert.equal(temperature.description, 'Sensors reporting overheating');
      });

      test('removing a rule from the file removes it from the server', async () => {
        const document = parseYaml(readFileSync(workspace.path('edited.yaml'), 'utf8')) as { rules: { name: string }[] };
        document.rules = document.rules.filter((rule) => rule.name !== 'drop-debug-logs');
        writeFileSync(workspace.path('removed.yaml'), stringifyYaml(document));
        const before = await ruleIds();

        const stdout = ok(await cli('rules', 'apply', '-f', 'removed.yaml'), 'rules apply (removed)');
        assert.equal(stdout, '- remove drop-debug-logs\n2 unchanged\napplied 1 change(s)\n');
        const after = await ruleIds();
        assert.deepEqual(Object.keys(after).sort(), ['temperature-too-high', 'user-id-required']);
        assert.equal(after['temperature-too-high'], before['temperature-too-high']);
      });

      test('an invalid rules file exits non-zero naming each rule and field, and changes nothing', async () => {
        const before = await ruleIds();
        const result = await cli('rules', 'apply', '-f', 'invalid.yaml');
        assert.notEqual(result.code, 0);
        assert.equal(result.stdout, '');
        assert.match(result.stderr, /rule "bad-operator" \(rules\[0\][^)]*\): orGroups\[0\]\.conditions\[0\]\.op: .*"OPERATOR_BIGGER"/);
        assert.match(result.stderr, /rule "empty-group" \(rules\[1\][^)]*\): orGroups\[0\]\.conditions: /);
        assert.match(result.stderr, /rule "bad-operator" \(rules\[2\][^)]*\): name: repeats the name of rules\[0\]/);
        assert.deepEqual(await ruleIds(), before);
      });
    });
  }
});
