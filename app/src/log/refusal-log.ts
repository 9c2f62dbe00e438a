import { isIP } from 'node:net';
import type { Logger } from 'pino';

/*
 * Lines that any client can cause at will (a refused call, a failed login, a bad CSRF token)
 * would let an attacker fill the disk one request at a time. They go through here: per kind
 * of line (its message) and interval, each peer address gets `perPeer` lines and all peers
 * together `perKind`; what is held back is counted, and when the interval ends one summary
 * line says how many similar lines were suppressed and from where. So a kind of line costs at
 * most perKind + 1 lines per interval, whatever the clients do, and the memory held is
 * bounded by perKind peers per kind.
 */

export interface RefusalLogLimits {
  /** Lines of one kind from one peer address per interval. */
  perPeer: number;
  /** Lines of one kind from all peers together per interval. */
  perKind: number;
  intervalMs: number;
}

export type RefusalLevel = 'info' | 'warn' | 'error';

/** The fields of the summary line written when an interval held lines back. */
export interface RefusalSummary {
  /** The message of the suppressed lines. */
  event: string;
  suppressed: number;
  intervalSeconds: number;
  /** The peers that were held back most, with their counts (at most TOP_PEERS). */
  topPeers: { peer: string; suppressed: number }[];
}

const TOP_PEERS = 5;

interface PeerCount {
  logged: number;
  suppressed: number;
}

interface Interval {
  startedAt: number;
  logged: number;
  suppressed: number;
  /** Only peers that had a line written: at most perKind of them. */
  peers: Map<string, PeerCount>;
  timer: NodeJS.Timeout | undefined;
  summarize: (summary: RefusalSummary) => void;
}

/** Counts lines per kind and peer; decides which are written and writes the summaries. */
export class RefusalLimiter {
  private readonly intervals = new Map<string, Interval>();

  constructor(
    readonly limits: RefusalLogLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * True when the line may be written now; false when it was counted for the interval's
   * summary, which `summarize` writes when the interval ends.
   */
  admit(kind: string, peer: string, summarize: (summary: RefusalSummary) => void): boolean {
    const now = this.now();
    let interval = this.intervals.get(kind);
    if (interval && now - interval.startedAt >= this.limits.intervalMs) {
      this.close(kind, interval);
      interval = undefined;
    }
    if (!interval) {
      interval = { startedAt: now, logged: 0, suppressed: 0, peers: new Map(), timer: undefined, summarize };
      this.intervals.set(kind, interval);
    }
    const count = interval.peers.get(peer);
    if (interval.logged < this.limits.perKind && (count?.logged ?? 0) < this.limits.perPeer) {
      interval.logged += 1;
      if (count) count.logged += 1;
      else interval.peers.set(peer, { logged: 1, suppressed: 0 });
      return true;
    }
    interval.suppressed += 1;
    if (count) count.suppressed += 1;
    if (interval.timer === undefined) {
      const current = interval;
      current.timer = setTimeout(() => this.close(kind, current), Math.max(0, current.startedAt + this.limits.intervalMs - now));
      current.timer.unref();
    }
    return false;
  }

  /** Writes the summaries of every open interval now (at shutdown) and starts afresh. */
  flush(): void {
    for (const [kind, interval] of [...this.intervals]) this.close(kind, interval);
  }

  private close(kind: string, interval: Interval): void {
    if (interval.timer !== undefined) clearTimeout(interval.timer);
    if (this.intervals.get(kind) === interval) this.intervals.delete(kind);
    if (interval.suppressed === 0) return;
    const topPeers = [...interval.peers]
      .filter(([, count]) => count.suppressed > 0)
      .sort((a, b) => b[1].suppressed - a[1].suppressed)
      .slice(0, TOP_PEERS)
      .map(([peer, count]) => ({ peer, suppressed: count.suppressed }));
    interval.summarize({
      event: kind,
      suppressed: interval.suppressed,
      intervalSeconds: Math.round((this.now() - interval.startedAt) / 1000),
      topPeers,
    });
  }
}

/**
 * The address part of a peer, since every connection of one client has another port: gRPC's
 * `10.0.0.7:53412`, `::1:53412`, `ipv4:10.0.0.7:53412` or `ipv6:[::1]:53412` become `10.0.0.7`
 * and `::1`; a bare address (fastify's request.ip) stays as it is. A trailing `:<digits>` is
 * taken for a port whenever what precedes it is an address, so a bare IPv6 address ending in a
 * decimal group shares its count with its neighbours: a cheaper mistake than one key per port.
 */
export function peerAddress(peer: string | undefined): string {
  if (peer === undefined || peer === '') return 'unknown';
  const bare = peer.replace(/^ipv[46]:/, '');
  const bracketed = /^\[(.+)\]:\d+$/.exec(bare);
  if (bracketed) return bracketed[1]!;
  const withPort = /^(.+):\d+$/.exec(bare);
  if (withPort && isIP(withPort[1]!) !== 0) return withPort[1]!;
  return bare;
}

export function summaryMessage(summary: RefusalSummary): string {
  return `suppressed ${summary.suppressed} similar lines in the last ${summary.intervalSeconds} s: ${summary.event}`;
}

const LIMITER = Symbol('refusal log limiter');

type WithLimiter = { [LIMITER]?: RefusalLimiter };

/**
 * Gives `logger` its limiter. Child loggers inherit it (pino children are prototype-linked to
 * their parent), so every part of a service shares one count per kind and peer.
 */
export function attachRefusalLimiter(logger: Logger, limits: RefusalLogLimits): void {
  Object.defineProperty(logger, LIMITER, { value: new RefusalLimiter(limits), enumerable: false });
}

export function refusalLimiterOf(logger: Logger): RefusalLimiter | undefined {
  return (logger as WithLimiter)[LIMITER];
}

/**
 * Writes a line a client can cause at will (see the top of this file): `message` names the
 * kind of line, `peer` the client; `fields` are logged as usual. A logger without a limiter
 * (one not made by createLogger) writes every line.
 */
export function logRefusal(
  logger: Logger,
  level: RefusalLevel,
  peer: string | undefined,
  fields: Record<string, unknown>,
  message: string,
): void {
  const limiter = refusalLimiterOf(logger);
  const admitted = !limiter || limiter.admit(message, peerAddress(peer), (summary) => logger[level](summary, summaryMessage(summary)));
  if (admitted) logger[level](fields, message);
}

/** Writes the summaries still pending (at shutdown, so no count is lost). */
export function flushRefusalLog(logger: Logger): void {
  refusalLimiterOf(logger)?.flush();
}
