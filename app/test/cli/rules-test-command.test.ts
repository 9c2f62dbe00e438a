import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { killChildren, runCli, Workspace, type CliResult } from './harness.js';

const TEMPERATURE_RULE = `name: temperature-too-high
state: RULE_STATE_ACTIVE
action: ACTION_OBSERVE
sampleRate: 0
orGroups:
  - conditions:
      - fieldPath: { segments: [ { fieldName: sensor }, { fieldName: temperature } ] }
        op: OPERATOR_GT
        fieldType: FIELD_TYPE_NUMERIC
        value: { numericValue: 100 }
`;

/** The same kind of rule, but a missing field fails the evaluation (FAIL policy). */
const FAIL_POLICY_RULE = {
  rules: [
    {
      name: 'temperature-required',
      state: 'RULE_STATE_ACTIVE',
      action: 'ACTION_FAIL',
      orGroups: [
        {
          conditions: [
            {
              fieldPath: { segments: [{ fieldName: 'sensor' }, { fieldName: 'temperature' }] },
              op: 'OPERATOR_GT',
              fieldType: 'FIELD_TYPE_NUMERIC',
              value: { numericValue: 100 },
              onMissingField: 'ON_MISSING_FIELD_FAIL',
            },
          ],
        },
      ],
    },
  ],
};

const INVALID_RULE = `name: broken
state: RULE_STATE_ACTIVE
action: ACTION_OBSERVE
orGroups:
  - conditions:
      - fieldPath: { segments: [ { fieldName: temperature } ] }
        op: OPERATOR_GT
        fieldType: FIELD_TYPE_NUMERIC
        value: { numericValue: 100 }
        fieldRef: { segments: [ { fieldName: limit } ] }
`;

function firstLine(result: CliResult): string {
  return result.stdout.split('\n')[0] ?? '';
}

describe('trapperkeeper rules test', () => {
  const workspace = new Workspace();
  const results: Record<string, CliResult> = {};

  before(async () => {
    writeFileSync(workspace.path('rule.yaml'), TEMPERATURE_RULE);
    writeFileSync(workspace.path('fail-rule.json'), JSON.stringify(FAIL_POLICY_RULE));
    writeFileSync(workspace.path('invalid-rule.yaml'), INVALID_RULE);
    writeFileSync(workspace.path('hot.json'), JSON.stringify({ sensor: { temperature: 130.5 } }));
    writeFileSync(workspace.path('cold.json'), JSON.stringify({ sensor: { temperature: '21' } }));
    writeFileSync(workspace.path('no-temperature.json'), JSON.stringify({ sensor: { humidity: 40 } }));
    // Independent commands: run them side by side.
    const runs = {
      hot: ['--rule', 'rule.yaml', '--payload', 'hot.json'],
      cold: ['--rule', 'rule.yaml', '--payload', 'cold.json'],
      failPolicy: ['--rule', 'fail-rule.json', '--payload', 'no-temperature.json'],
      invalid: ['--rule', 'invalid-rule.yaml', '--payload', 'hot.json'],
    };
    await Promise.all(Object.entries(runs).map(async ([name, args]) => {
      results[name] = await runCli(workspace, ['rules', 'test', ...args]);
    }));
  });
  after(async () => {
    await killChildren();
    workspace.remove();
  });

  test('a matching payload prints {"matched":true,"error":null} first and exits 0, even with sample rate 0', () => {
    const result = results.hot!;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(firstLine(result), '{"matched":true,"error":null}');
    assert.match(result.stderr, /decidedBy/);
  });

  test('a payload that does not match prints matched false and exits 0', () => {
    const result = results.cold!;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(firstLine(result), '{"matched":false,"error":null}');
  });

  test('a FAIL policy on a missing field prints the evaluation error and exits 0', () => {
    const result = results.failPolicy!;
    assert.equal(result.code, 0, result.stderr);
    const verdict = JSON.parse(firstLine(result)) as { matched: boolean; error: unknown };
    assert.equal(verdict.matched, false);
    assert.equal(typeof verdict.error, 'string');
    assert.match(verdict.error as string, /sensor\.temperature is missing/);
  });

  test('an invalid rule exits non-zero with a message naming the rule and the field', () => {
    const result = results.invalid!;
    assert.notEqual(result.code, 0);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /Rule "broken" is invalid: orGroups\[0\]\.conditions\[0\]\.value: .*fieldRef/);
    assert.doesNotMatch(result.stderr, /unexpected error/);
  });
});
