import type { ProxyRouting, RoutedRelease } from '../release/ports.js';

import type { GateState } from '../health-gate/gate-state.js';

export type VerificationResult =
  | {
      verified: true;
      durationMs: number;
      /** How it went: rounds polled, each round's probe time, and the last failing answer of each check (a slow verification's why). */
      rounds?: { count: number; roundsMs: number[]; lastFailures: GateState['lastFailures'] };
    }
  | {
      verified: false;
      durationMs: number;
      /** What the public endpoints answered instead (the gate's failure description). */
      failure: string;
    };

export type SwitchDecision =
  | { action: 'commit' }
  | {
      action: 'restore-and-fail';
      /** Why the release fails; the caller appends whether the previous config came back. */
      reason: string;
    };

function describe(target: RoutedRelease | null): string {
  return target ? `the ${target.slot} slot (release ${target.releaseId})` : 'no live release (503)';
}

/**
 * After a switch: keep it only when the public endpoints reported the intended release.
 * Anything else (a wrong release, Caddy down, no answer) restores the previous config and fails
 * the release; an unverifiable switch is never a warning.
 */
export function decideAfterVerification(
  result: VerificationResult,
  context: { intended: RoutedRelease; previous: ProxyRouting },
): SwitchDecision {
  if (result.verified) return { action: 'commit' };
  return {
    action: 'restore-and-fail',
    reason:
      `Traffic was switched to ${describe(context.intended)} but the public endpoints did not report it within ` +
      `${result.durationMs} ms, so the release fails and the previous routing (${describe(context.previous.live)}) goes back.\n` +
      result.failure,
  };
}
