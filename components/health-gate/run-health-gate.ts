import { setTimeout as sleep } from 'node:timers/promises';
import { DeployError } from '../errors.js';
import type { HealthCheck } from './checks.js';
import {
  INITIAL_GATE_STATE,
  describeGateFailure,
  gatePassed,
  recordRound,
  type GateState,
  type GateThresholds,
  type RoundResult,
} from './gate-state.js';

/** A single probe never waits longer than this (nor past the gate's deadline). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 2000;

/**
 * The pause between rounds while no round has passed yet (a slot still starting, or one that
 * just failed): a slot is seen ready within this of being ready, not up to a whole interval
 * later. The successes that follow stay `intervalMs` apart, so the time a slot must stay healthy
 * is the same.
 */
export const UNTIL_FIRST_PASS_POLL_MS = 100;

export interface HealthGateOptions extends GateThresholds {
  /** What is gated, for the error: `the green slot (release 1.4.0-...)`. */
  subject: string;
  /** The command that helps a person find out why (e.g. `docker logs ...`). */
  fix: string;
  /** @default DEFAULT_REQUEST_TIMEOUT_MS */
  requestTimeoutMs?: number;
}

export interface GateReport {
  state: GateState;
  durationMs: number;
  /** How long each round's probes took, in order (the pauses between rounds excluded). */
  roundDurationsMs: number[];
}

async function runCheck(check: HealthCheck, timeoutMs: number): Promise<RoundResult> {
  try {
    return { check: check.name, ...(await check.run(timeoutMs)) };
  } catch (error) {
    return { check: check.name, ok: false, detail: `probe failed: ${(error as Error).message}` };
  }
}

/**
 * Polls every check until all of them succeed in `successes` consecutive rounds `intervalMs`
 * apart (any failure resets the count; until a round passes, rounds are UNTIL_FIRST_PASS_POLL_MS apart). On timeout throws DeployError with the last failing
 * answer of each check. It never touches traffic: a failed gate leaves the live slot serving.
 */
export async function runHealthGate(checks: readonly HealthCheck[], options: HealthGateOptions): Promise<GateReport> {
  if (checks.length === 0) throw new Error('runHealthGate needs at least one check');
  const started = performance.now();
  const deadline = started + options.timeoutMs;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  let state = INITIAL_GATE_STATE;
  const roundDurationsMs: number[] = [];
  for (;;) {
    const roundStarted = performance.now();
    // Whole milliseconds: the remaining time is fractional, and timer APIs (AbortSignal.timeout in
    // the probe) reject a fractional delay, which would fail a healthy slot in the last round.
    const timeoutMs = Math.max(100, Math.floor(Math.min(requestTimeoutMs, deadline - roundStarted)));
    state = recordRound(state, await Promise.all(checks.map((check) => runCheck(check, timeoutMs))));
    const now = performance.now();
    roundDurationsMs.push(Math.round(now - roundStarted));
    if (gatePassed(state, options)) return { state, durationMs: Math.round(now - started), roundDurationsMs };
    if (now >= deadline) {
      throw new DeployError(
        describeGateFailure(options.subject, checks.map((c) => c.name), state, options),
        options.fix,
      );
    }
    const pause = state.consecutive === 0 ? Math.min(options.intervalMs, UNTIL_FIRST_PASS_POLL_MS) : options.intervalMs;
    await sleep(Math.max(0, Math.min(pause - (now - roundStarted), deadline - now)));
  }
}
