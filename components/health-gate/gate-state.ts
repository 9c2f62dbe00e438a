/** One check's answer in one round. */
export interface CheckOutcome {
  ok: boolean;
  /** What was seen: `HTTP 200 release r1`, `HTTP 502 <body excerpt>`, `gRPC UNAVAILABLE: ...`. */
  detail: string;
}

export interface RoundResult extends CheckOutcome {
  check: string;
}

export interface GateThresholds {
  /** Consecutive rounds in which every check succeeds. */
  successes: number;
  intervalMs: number;
  timeoutMs: number;
}

export interface GateState {
  rounds: number;
  /** Rounds in a row, up to now, in which every check succeeded. */
  consecutive: number;
  bestStreak: number;
  /** The last failing answer of each check that ever failed, with the round it failed in. */
  lastFailures: Record<string, { round: number; detail: string }>;
}

export const INITIAL_GATE_STATE: GateState = { rounds: 0, consecutive: 0, bestStreak: 0, lastFailures: {} };

/** Counts one round: all checks ok extends the streak, any failure resets it to zero. */
export function recordRound(state: GateState, results: readonly RoundResult[]): GateState {
  const round = state.rounds + 1;
  const failures = results.filter((r) => !r.ok);
  const consecutive = failures.length === 0 && results.length > 0 ? state.consecutive + 1 : 0;
  const lastFailures = { ...state.lastFailures };
  for (const failure of failures) lastFailures[failure.check] = { round, detail: failure.detail };
  return { rounds: round, consecutive, bestStreak: Math.max(state.bestStreak, consecutive), lastFailures };
}

export function gatePassed(state: GateState, thresholds: Pick<GateThresholds, 'successes'>): boolean {
  return state.consecutive >= thresholds.successes;
}

/** The gate's failure: thresholds, best streak and the last failing answer of every check. */
export function describeGateFailure(subject: string, checks: readonly string[], state: GateState, thresholds: GateThresholds): string {
  const lines = checks.map((check) => {
    const failure = state.lastFailures[check];
    return failure ? `${check}: ${failure.detail} (round ${failure.round})` : `${check}: never failed`;
  });
  return [
    `${subject} did not pass the health gate: ${thresholds.successes} consecutive successes of every check were needed within ${thresholds.timeoutMs} ms (polled every ${thresholds.intervalMs} ms); best streak ${state.bestStreak} in ${state.rounds} rounds.`,
    'Last failing responses:',
    ...lines.map((line) => `  - ${line}`),
  ].join('\n');
}
