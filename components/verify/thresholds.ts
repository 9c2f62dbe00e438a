import type { GateThresholds } from '../health-gate/gate-state.js';

/** How long the public endpoints may take to report a new release after a switch (at most the gate's timeout). */
export const DEFAULT_VERIFY_TIMEOUT_MS = 30_000;
/**
 * The longest pause between two verification rounds. The gate has already shown the slot healthy
 * for release.gate.intervalMs apart; verification checks the routing, and answers a quarter of
 * a second apart catch a route that flips back just as well, without seconds of waiting.
 */
export const MAX_VERIFY_INTERVAL_MS = 250;

/** The verification after a switch: as many consecutive successes as the gate, polled faster. */
export function verificationThresholds(gate: GateThresholds, overrides: Partial<GateThresholds> = {}): GateThresholds {
  return {
    successes: overrides.successes ?? gate.successes,
    intervalMs: overrides.intervalMs ?? Math.min(gate.intervalMs, MAX_VERIFY_INTERVAL_MS),
    timeoutMs: overrides.timeoutMs ?? Math.min(gate.timeoutMs, DEFAULT_VERIFY_TIMEOUT_MS),
  };
}
