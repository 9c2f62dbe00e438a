/**
 * Whether a service is ready, from its database pings. On a busy machine one ping can take
 * longer than its timeout while the service serves fine; answering 503 then makes a health gate
 * or a load balancer drop a healthy instance. So a failed ping counts against readiness only
 * when the failures go on: `failuresBeforeUnready` in a row, or no success for `graceMs`. Before
 * the first success nothing is tolerated: a service whose database never answered is not ready.
 */
export interface ReadinessLimits {
  failuresBeforeUnready: number;
  graceMs: number;
}

export const DEFAULT_READINESS_LIMITS: ReadinessLimits = { failuresBeforeUnready: 3, graceMs: 10_000 };

export type PingVerdict = { ready: true; tolerated?: { consecutiveFailures: number } } | { ready: false; consecutiveFailures: number };

export class DatabaseReadiness {
  private lastSuccessAt: number | undefined;
  private consecutiveFailures = 0;

  constructor(
    private readonly limits: ReadinessLimits = DEFAULT_READINESS_LIMITS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  succeeded(): PingVerdict {
    this.lastSuccessAt = this.now();
    this.consecutiveFailures = 0;
    return { ready: true };
  }

  failed(): PingVerdict {
    this.consecutiveFailures += 1;
    const recent = this.lastSuccessAt !== undefined && this.now() - this.lastSuccessAt <= this.limits.graceMs;
    if (recent && this.consecutiveFailures < this.limits.failuresBeforeUnready) {
      return { ready: true, tolerated: { consecutiveFailures: this.consecutiveFailures } };
    }
    return { ready: false, consecutiveFailures: this.consecutiveFailures };
  }
}
