import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeployError } from '../../../components/errors.js';
import { parseRouting, planReadRouting, planRoutingChange } from './routing.js';

const blueR1 = { slot: 'blue' as const, releaseId: '1.4.0-3f2a9c1d-20261123T101500Z' };
const greenR2 = { slot: 'green' as const, releaseId: '1.5.0-9e8d7c6b-20261201T090000Z' };

describe('parseRouting', () => {
  it('reads no routing before the first release', () => {
    assert.deepEqual(parseRouting(''), { live: null, staging: null });
  });

  it('reads the live and staging slots with their release ids', () => {
    const listing = `live-blue\t\nrelease-blue\t${blueR1.releaseId}\nrelease-green\t${greenR2.releaseId}\nstaging-green\t\n`;
    assert.deepEqual(parseRouting(listing), { live: blueR1, staging: greenR2 });
  });

  it('refuses an ambiguous routing (both live markers) and a live slot without its release id', () => {
    assert.throws(() => parseRouting('live-blue\t\nlive-green\t\nrelease-blue\tr1\nrelease-green\tr2\n'), (e: unknown) => e instanceof DeployError && /Both live-blue and live-green/.test(e.message));
    assert.throws(() => parseRouting('live-green\t\n'), (e: unknown) => e instanceof DeployError && /release-green is missing/.test(e.message));
  });

  it('lists the markers from inside the container without failing when there are none', () => {
    assert.equal(
      planReadRouting(),
      "cd /config/tk-routing 2>/dev/null || exit 0\nfor f in live-* staging-* release-*; do [ -f \"$f\" ] && printf '%s\\t%s\\n' \"$f\" \"$(cat \"$f\")\"; done\nexit 0",
    );
  });
});

describe('planRoutingChange', () => {
  it('switches every public route with one atomic rename, after checking the routing is still what was read', () => {
    assert.equal(
      planRoutingChange({ live: blueR1, staging: greenR2 }, { live: greenR2, staging: blueR1 }),
      [
        'set -e',
        'mkdir -p /config/tk-routing',
        'cd /config/tk-routing',
        '[ -e live-blue ] && [ ! -e live-green ] && [ ! -e staging-blue ] && [ -e staging-green ] || exit 3',
        `printf '%s' '${greenR2.releaseId}' > .release-green.tmp`,
        'mv -f .release-green.tmp release-green',
        `printf '%s' '${blueR1.releaseId}' > .release-blue.tmp`,
        'mv -f .release-blue.tmp release-blue',
        'mv live-blue live-green',
        'mv staging-green staging-blue',
      ].join('\n'),
    );
  });

  it('stages a slot without touching the live marker', () => {
    const script = planRoutingChange({ live: blueR1, staging: null }, { live: blueR1, staging: greenR2 });
    assert.deepEqual(script.split('\n').slice(3), [
      '[ -e live-blue ] && [ ! -e live-green ] && [ ! -e staging-blue ] && [ ! -e staging-green ] || exit 3',
      `printf '%s' '${blueR1.releaseId}' > .release-blue.tmp`,
      'mv -f .release-blue.tmp release-blue',
      `printf '%s' '${greenR2.releaseId}' > .release-green.tmp`,
      'mv -f .release-green.tmp release-green',
      ': > .staging.tmp',
      'mv .staging.tmp staging-green',
    ]);
  });

  it('creates the live marker on the first release and removes it when restoring "no live release"', () => {
    const first = planRoutingChange({ live: null, staging: blueR1 }, { live: blueR1, staging: null }).split('\n');
    assert.deepEqual(first.slice(-3), [': > .live.tmp', 'mv .live.tmp live-blue', 'rm staging-blue']);
    const restore = planRoutingChange({ live: blueR1, staging: null }, { live: null, staging: blueR1 }).split('\n');
    assert.deepEqual(restore.slice(-3), ['rm live-blue', ': > .staging.tmp', 'mv .staging.tmp staging-blue']);
  });

  it('refuses a release id that is not an image tag (it would reach a shell)', () => {
    assert.throws(() => planRoutingChange({ live: null, staging: null }, { live: { slot: 'blue', releaseId: "r1'; rm -rf /" }, staging: null }), DeployError);
  });
});
