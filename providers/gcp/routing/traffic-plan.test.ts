import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeployError } from '../../../components/errors.js';
import { otherSlot, type Slot } from '../../../components/release/plan.js';
import { LATEST, REVISION, planRestore, planStage, planSwitch, planUntag, readSlots, type ServiceTraffic, type TrafficTarget } from './traffic-plan.js';

const rev = (revision: string, percent: number, tag?: Slot): TrafficTarget => ({ type: REVISION, revision, percent, ...(tag ? { tag } : {}) });

/**
 * Cloud Run as far as traffic goes: an update that creates a revision makes it the latest ready
 * one, and LATEST blocks follow it, so a plan that kept LATEST would hand users the new revision
 * before its gate.
 */
class FakeService {
  latestReadyRevision = 'tk-dev-sensor-api-00001';
  traffic: TrafficTarget[] = [{ type: LATEST, percent: 100 }];
  private counter = 1;

  state(): ServiceTraffic {
    return { traffic: structuredClone(this.traffic), latestReadyRevision: this.latestReadyRevision };
  }

  /** What users reach, resolving LATEST the way Cloud Run does after the update. */
  served(): string[] {
    return this.traffic.filter((t) => (t.percent ?? 0) > 0).map((t) => (t.type === LATEST ? this.latestReadyRevision : (t.revision as string)));
  }

  newRevision(): string {
    this.counter += 1;
    return `tk-dev-sensor-api-${String(this.counter).padStart(5, '0')}`;
  }

  /** One API update: optionally a new revision (template change) and the traffic in the same call. */
  update(traffic: TrafficTarget[], createdRevision?: string): void {
    if (createdRevision) this.latestReadyRevision = createdRevision;
    this.traffic = traffic;
  }
}

type Op = 'release' | 'rollback' | 'gate-fails' | 'verify-fails';

function live(service: FakeService) {
  return readSlots(service.state()).live;
}

/** Runs one operation the way the release pipeline orders it; returns the revision it promoted, if any. */
function run(service: FakeService, op: Op): { promoted?: string } {
  const before = readSlots(service.state());
  const idle: Slot = before.live?.slot ? otherSlot(before.live.slot) : 'blue';
  if (op === 'rollback') {
    const target = before.tagged[idle];
    if (!target) return {};
    service.update(planStage(service.state(), idle, target));
    service.update(planSwitch(service.state(), idle));
    return { promoted: target };
  }
  const revision = service.newRevision();
  service.update(planStage(service.state(), idle, revision), revision);
  assert.deepEqual(service.served(), before.live ? [before.live.revision] : service.served(), 'staging moved no user');
  if (op === 'gate-fails') return {};
  const previous = service.state();
  service.update(planSwitch(service.state(), idle));
  if (op === 'verify-fails') {
    service.update(planRestore(previous));
    return {};
  }
  return { promoted: revision };
}

function assertWellFormed(service: FakeService, context: string): void {
  const traffic = service.traffic;
  assert.ok(traffic.every((t) => t.type === REVISION && t.revision), `${context}: every block names its revision (never LATEST): ${JSON.stringify(traffic)}`);
  assert.equal(traffic.reduce((sum, t) => sum + (t.percent ?? 0), 0), 100, `${context}: percentages add up to 100`);
  assert.equal(new Set(service.served()).size, 1, `${context}: one revision serves`);
  const tags = traffic.map((t) => t.tag).filter(Boolean);
  assert.equal(new Set(tags).size, tags.length, `${context}: a tag names one revision`);
  assert.ok(traffic.every((t) => (t.percent ?? 0) > 0 || t.tag), `${context}: no block without traffic or tag`);
  assert.ok(traffic.length <= 3, `${context}: at most the live block and the two slots`);
}

function sequences(length: number): Op[][] {
  const ops: Op[] = ['release', 'rollback', 'gate-fails', 'verify-fails'];
  if (length === 0) return [[]];
  return sequences(length - 1).flatMap((prefix) => ops.map((op) => [...prefix, op]));
}

describe('Cloud Run traffic plans', () => {
  it('a first release: the initial LATEST revision is pinned while the new one is staged at 0% under its tag, then gets 100%', () => {
    const service = new FakeService();
    const staged = planStage(service.state(), 'blue', 'tk-dev-sensor-api-00002');
    assert.deepEqual(staged, [
      { type: REVISION, revision: 'tk-dev-sensor-api-00001', percent: 100 },
      { type: REVISION, revision: 'tk-dev-sensor-api-00002', percent: 0, tag: 'blue' },
    ]);
    service.update(staged, 'tk-dev-sensor-api-00002');
    assert.deepEqual(service.served(), ['tk-dev-sensor-api-00001'], 'the new revision got no user');
    assert.deepEqual(planSwitch(service.state(), 'blue'), [{ type: REVISION, revision: 'tk-dev-sensor-api-00002', percent: 100, tag: 'blue' }]);
  });

  it('a release after a rollback really receives 100%, though traffic was pinned to the older revision', () => {
    const service = new FakeService();
    const a = run(service, 'release').promoted; // blue: A
    const b = run(service, 'release').promoted; // green: B
    assert.deepEqual(live(service), { revision: b, slot: 'green' });
    assert.equal(run(service, 'rollback').promoted, a);
    assert.deepEqual(service.traffic, [rev(a!, 100, 'blue'), rev(b!, 0, 'green')], 'traffic pinned to A by name');
    const c = run(service, 'release').promoted;
    assert.deepEqual(live(service), { revision: c, slot: 'green' });
    assert.deepEqual(service.served(), [c]);
    assert.deepEqual(service.traffic, [rev(c!, 100, 'green'), rev(a!, 0, 'blue')], 'B left the list, A stays the rollback target');
  });

  it('a failed verification puts back exactly the traffic the switch replaced', () => {
    const service = new FakeService();
    run(service, 'release');
    run(service, 'release');
    const before = structuredClone(service.traffic);
    run(service, 'verify-fails');
    assert.deepEqual(service.traffic.filter((t) => (t.percent ?? 0) > 0), before.filter((t) => (t.percent ?? 0) > 0));
  });

  it('every sequence of up to 6 releases, rollbacks, failed gates and failed verifications keeps one serving revision, named, and promotes exactly what each step intends', () => {
    let checked = 0;
    for (let length = 1; length <= 6; length++) {
      for (const ops of sequences(length)) {
        const service = new FakeService();
        const history: string[] = [];
        ops.forEach((op, i) => {
          const context = `${ops.slice(0, i + 1).join(' > ')}`;
          const before = live(service);
          const idleBefore = readSlots(service.state()).tagged[before?.slot ? otherSlot(before.slot) : 'blue'];
          const { promoted } = run(service, op);
          if (service.traffic.some((t) => t.type === LATEST)) {
            assert.equal(before?.slot ?? null, null, `${context}: LATEST only while nothing was ever staged`);
            assert.equal(op, 'rollback', `${context}: only a rollback with nothing to roll back changes nothing`);
            return;
          }
          assertWellFormed(service, context);
          const after = live(service);
          if (op === 'release') {
            assert.equal(after?.revision, promoted, `${context}: the release serves`);
            assert.notEqual(after?.slot, before?.slot ?? null, `${context}: it went live in the other slot`);
            history.push(promoted!);
          } else if (op === 'rollback' && idleBefore) {
            assert.equal(after?.revision, idleBefore, `${context}: the parked revision serves again`);
          } else {
            assert.deepEqual(after, before, `${context}: users stay where they were`);
          }
          checked += 1;
        });
      }
    }
    assert.ok(checked > 5000, `checked ${checked} steps`);
  });

  it('refuses to stage the slot that serves, to switch to a slot with no revision, and to guess among split traffic', () => {
    const service = new FakeService();
    run(service, 'release');
    assert.throws(() => planStage(service.state(), 'blue', 'tk-dev-sensor-api-00009'), DeployError);
    assert.throws(() => planSwitch(service.state(), 'green'), /no revision carries its tag/);
    assert.throws(() => planUntag(service.state(), 'blue'), /serves users now/);
    const split = { traffic: [rev('a', 50, 'blue'), rev('b', 50, 'green')] };
    assert.throws(() => readSlots(split), /splits traffic between a, b/);
    assert.throws(() => pinLatestWithoutRevision(), /no ready revision is known/);
  });

  it('untagging the idle slot leaves users alone and drops its block', () => {
    const service = new FakeService();
    run(service, 'release');
    run(service, 'gate-fails');
    const [live] = service.served();
    assert.deepEqual(planUntag(service.state(), 'green'), [rev(live!, 100, 'blue')]);
  });

  it('reads full revision resource names as short names', () => {
    const state = { traffic: [{ type: REVISION, revision: 'projects/p/locations/europe-west1/services/s/revisions/s-00003', percent: 100, tag: 'green' }] };
    assert.deepEqual(readSlots(state), { live: { revision: 's-00003', slot: 'green' }, tagged: { green: 's-00003' } });
  });
});

function pinLatestWithoutRevision() {
  return readSlots({ traffic: [{ type: LATEST, percent: 100 }] });
}
