import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exampleReleasePlan } from './memory-backend.js';
import { parseReleasePlan, RELEASE_PLAN_SCHEMA_VERSION } from './plan.js';

const options = { source: 'TK_RELEASE_PLAN', fix: 'run it through pulumi up' };
const R1 = '1.0.0-aaaaaaa-20261201T100000Z-b00000001';

describe('parseReleasePlan (every boundary a plan crosses)', () => {
  it('reads a current plan, from JSON text or a value, keeping the target section for the target', () => {
    const plan = exampleReleasePlan(R1, { target: { kind: 'docker', prefix: 'tk-dev' } });
    assert.deepEqual(parseReleasePlan(JSON.stringify(plan), options), plan);
    assert.deepEqual(parseReleasePlan(plan, options).target, { kind: 'docker', prefix: 'tk-dev' });
  });

  it('refuses a plan from a newer toolkit with what to do, instead of misreading it', () => {
    const newer = { ...exampleReleasePlan(R1), schemaVersion: RELEASE_PLAN_SCHEMA_VERSION + 1, somethingNew: true };
    assert.throws(() => parseReleasePlan(newer, options), /written by a newer TrapperKeeper Deploy \(plan schema 2; this checkout reads up to 1\)[\s\S]*git pull && npm ci/);
  });

  it('names every invalid field, and never casts', () => {
    const broken = { ...exampleReleasePlan(R1), gate: { successes: 0, intervalMs: 1, timeoutMs: 1 }, secretEnv: ['tk_lower'] };
    assert.throws(() => parseReleasePlan(broken, options), (error: Error) => {
      assert.match(error.message, /is not valid/);
      assert.match(error.message, /gate\.successes/);
      assert.match(error.message, /secretEnv\.0/);
      assert.match(error.message, /fix: run it through pulumi up/);
      return true;
    });
    assert.throws(() => parseReleasePlan('{"schemaVersion": 1,', options), /not JSON/);
    assert.throws(() => parseReleasePlan('[]', options), /not an object/);
  });

  it('an unversioned plan is read only through the target\'s upgrade of its older shape', () => {
    const { schemaVersion: _version, ...unversioned } = exampleReleasePlan(R1);
    assert.throws(() => parseReleasePlan(unversioned, options), /has no schemaVersion/);
    const upgraded = parseReleasePlan({ legacy: true }, { ...options, upgradeUnversioned: () => exampleReleasePlan(R1) });
    assert.equal(upgraded.image.releaseId, R1);
    assert.throws(() => parseReleasePlan({ legacy: true }, { ...options, upgradeUnversioned: () => undefined }), /no older plan this toolkit knows/);
  });
});
