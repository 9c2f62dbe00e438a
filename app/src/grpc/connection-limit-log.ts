import type { Logger } from '../log/logger.js';
import type { RefusalReason, ShedReason } from './connection-guard.js';

/** The addresses a summary names, most frequent first; the rest are only counted. */
const TOP_ADDRESSES = 5;

/**
 * Log lines about shed and refused connections, at most one per interval: a flood of
 * connections must not turn into a flood of log lines. The first event is logged at once,
 * the following ones as one summary (counts by outcome and reason, the busiest addresses)
 * when the interval ends. Limits reached are warnings; handshake timeouts alone (port
 * scanners, half-open connections) are info.
 */
export class ConnectionLimitLog {
  private readonly counts = new Map<string, number>();
  private readonly addresses = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 60_000,
  ) {}

  note(outcome: 'shed' | 'refused', reason: ShedReason | RefusalReason, address: string): void {
    if (!this.timer) {
      this.write({ [`${outcome}:${reason}`]: 1 }, [[address, 1]], reason === 'handshake_timeout');
      this.arm();
      return;
    }
    const key = `${outcome}:${reason}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.addresses.set(address, (this.addresses.get(address) ?? 0) + 1);
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.flush()) this.arm();
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Logs what was counted since the last line; false when there was nothing. */
  private flush(): boolean {
    if (this.counts.size === 0) return false;
    const onlyTimeouts = [...this.counts.keys()].every((key) => key === 'shed:handshake_timeout');
    const busiest = [...this.addresses].sort((a, b) => b[1] - a[1]).slice(0, TOP_ADDRESSES);
    this.write(Object.fromEntries(this.counts), busiest, onlyTimeouts);
    this.counts.clear();
    this.addresses.clear();
    return true;
  }

  private write(counts: Record<string, number>, addresses: Array<[string, number]>, onlyTimeouts: boolean): void {
    const fields = { connections: counts, addresses: Object.fromEntries(addresses), intervalMs: this.intervalMs };
    if (onlyTimeouts) {
      this.logger.info(fields, 'sensor API closed connections that did not complete the HTTP/2 handshake in time');
    } else {
      this.logger.warn(
        fields,
        'sensor API connection limit reached: connections with no authenticated call were closed to make room, or new ones refused (see max_connections, max_connections_per_address)',
      );
    }
  }
}
