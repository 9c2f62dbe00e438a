/**
 * Whether a service is ready, from its database pings. On a busy machine one ping can take
 * longer than its timeout while the service serves fine; answering 503 then makes a health gate
 * or a load balancer drop a healthy instance. So a failed ping counts against readiness only
 * when the failures go on: `failuresBeforeUnready` in a row over at least `minOutageMs` since the
 * last success (many probes arriving during one stall fail together and prove nothing more than
 * one), or no success at all for `graceMs`. Before the first success nothing is tolerated: a
 * service whose database never answered is not ready.
 */
export interface ReadinessLimits {
  failuresBeforeUnready: number;
  /** How long the database must have been failing before the count alone makes it unready. @default 0 */
  minOutageMs?: number;
  graceMs: number;
}

export const DEFAULT_READINESS_LIMITS: ReadinessLimits = { failuresBeforeUnready: 3, minOutageMs: 3_000, graceMs: 10_000 };

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
    const sinceSuccess = this.lastSuccessAt === undefined ? Number.POSITIVE_INFINITY : this.now() - this.lastSuccessAt;
    const persistent = this.consecutiveFailures >= this.limits.failuresBeforeUnready && sinceSuccess >= (this.limits.minOutageMs ?? 0);
    if (sinceSuccess <= this.limits.graceMs && !persistent) {
      return { ready: true, tolerated: { consecutiveFailures: this.consecutiveFailures } };
    }
    return { ready: false, consecutiveFailures: this.consecutiveFailures };
  }
}
