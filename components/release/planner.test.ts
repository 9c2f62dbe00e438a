import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PendingMigrations } from '../migrate/migration-status.js';
import { exampleReleasePlan } from './memory-backend.js';
import { planReleaseSteps } from './planner.js';

const R1 = '1.0.0-aaaaaaa-20261201T100000Z-b00000001';
const R2 = '1.1.0-bbbbbbb-20261201T110000Z-b00000001';
const none: PendingMigrations = { pending: [], failed: [], changed: [], running: [], statuses: [] };

describe('planReleaseSteps (pure: the steps from what was observed)', () => {
  it('a release goes into the idle slot, blue on an empty stack, and migrates only when something is pending', () => {
    const plan = exampleReleasePlan(R2);
    assert.deepEqual(planReleaseSteps({ kind: 'release', plan, live: null, migrations: none }), { action: 'promote', plan, slot: 'blue', from: 'fresh', warm: false, migrate: false });
    const steps = planReleaseSteps({ kind: 'release', plan, live: { slot: 'blue', releaseId: R1 }, migrations: { ...none, pending: ['002_x'] } });
    assert.deepEqual(steps, { action: 'promote', plan, slot: 'green', from: 'fresh', warm: false, migrate: true });
  });

  it('a release refuses, before anything changes, migrations a person must look at', () => {
    const plan = exampleReleasePlan(R2);
    const live = { slot: 'blue' as const, releaseId: R1 };
    assert.throws(() => planReleaseSteps({ kind: 'release', plan, live, migrations: { ...none, failed: ['002_x'] } }), /002_x failed in an earlier run[\s\S]*migrate --resolve 002_x/);
    assert.throws(() => planReleaseSteps({ kind: 'release', plan, live, migrations: { ...none, changed: ['001_a'] } }), /edited after it was applied/);
    assert.throws(() => planReleaseSteps({ kind: 'release', plan, live, migrations: { ...none, running: ['002_x'] } }), /being applied by another process/);
  });

  it('a rollback promotes the parked release without migrating, or does nothing when its pin already serves', () => {
    const parked = { slot: 'blue' as const, plan: exampleReleasePlan(R1), startedAt: new Date(0), running: false };
    const liveRecord = { slot: 'green' as const, plan: exampleReleasePlan(R2), startedAt: new Date(1), running: true };
    const live = { slot: 'green' as const, releaseId: R2 };
    const base = { kind: 'rollback' as const, stack: 'test', live, liveRecord, idleRecord: parked, pinned: false };
    assert.deepEqual(planReleaseSteps(base), { action: 'promote', plan: parked.plan, slot: 'blue', from: 'parked', warm: false, migrate: false });
    // On `running` standby the parked slot never stopped: a warm promotion (one pass of the gate).
    assert.deepEqual(planReleaseSteps({ ...base, idleRecord: { ...parked, running: true } }), { action: 'promote', plan: parked.plan, slot: 'blue', from: 'parked', warm: true, migrate: false });
    assert.deepEqual(planReleaseSteps({ ...base, to: R2, pinned: true }), { action: 'nothing', live, previousRelease: R1 });
  });
});
