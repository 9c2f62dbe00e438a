import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideAfterVerification } from './decide.js';

const intended = { slot: 'green' as const, releaseId: 'r2' };
const previous = { live: { slot: 'blue' as const, releaseId: 'r1' }, staging: { slot: 'green' as const, releaseId: 'r2' } };

describe('decideAfterVerification', () => {
  it('keeps the switch when the public endpoints report the intended release', () => {
    assert.deepEqual(decideAfterVerification({ verified: true, durationMs: 120 }, { intended, previous }), { action: 'commit' });
  });

  it('restores the previous routing and fails the release when the public endpoints report another release', () => {
    const failure = 'Last failing responses:\n  - public web-ui /readyz: HTTP 200 but release "r1", not r2';
    assert.deepEqual(decideAfterVerification({ verified: false, durationMs: 30_000, failure }, { intended, previous }), {
      action: 'restore-and-fail',
      reason:
        'Traffic was switched to the green slot (release r2) but the public endpoints did not report it within 30000 ms, ' +
        'so the release fails and the previous routing (the blue slot (release r1)) goes back.\n' +
        failure,
    });
  });

  it('treats an unreachable proxy as a failed release, never a warning', () => {
    const decision = decideAfterVerification(
      { verified: false, durationMs: 5000, failure: 'public web-ui /readyz: no HTTP response: ECONNREFUSED' },
      { intended, previous: { live: null, staging: null } },
    );
    assert.equal(decision.action, 'restore-and-fail');
    assert.match(decision.action === 'restore-and-fail' ? decision.reason : '', /previous routing \(no live release \(503\)\) goes back\.\n.*ECONNREFUSED/);
  });
});
