import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { connectSensorClient, type SensorClient } from '../../app/test/support/sensor-client.js';
import { httpsGet } from '../../components/health-gate/index.js';

/**
 * Traffic through the public endpoints while a release runs: web-ui pages over HTTP and
 * SyncRules calls over gRPC at a steady rate, counting every failure. Bounded: it stops when
 * asked or after `maxSeconds`, and only ever targets the given 127.0.0.1 addresses.
 */
export interface LoadTarget {
  /** e.g. http://127.0.0.1:18080 */
  httpUrl: string;
  /** e.g. 127.0.0.1:15051 */
  grpcAddress: string;
  apiKey: string;
  /** HTTPS and gRPC over TLS (a stack with a domain): the roots to trust and the certificates' names. */
  tls?: { ca: string; httpServerName: string; grpcServerName: string };
}

export interface LoadCounts {
  ok: number;
  /** The system failed: a wrong status, a refused or reset connection, or no answer while this process was responsive. */
  failed: number;
  /** The first failures, for the assertion message. */
  errors: string[];
  /**
   * The probe failed, not the system: a request timed out while this process itself was starved
   * (its event loop stalled for PROBE_STALL_MS or more during the request), so nothing can be
   * concluded about the endpoint. Reported apart so a busy test machine is not read as an outage.
   */
  probeFailed: number;
  probeErrors: string[];
}

/** An event-loop stall this long during a request makes its timeout the probe's failure. */
export const PROBE_STALL_MS = 1000;

export interface LoadReport {
  http: LoadCounts;
  grpc: LoadCounts;
  seconds: number;
  /** Requests per second actually sent (both kinds). */
  rate: number;
  /** Release ids seen in /readyz answers, in order of first appearance. */
  releasesSeen: string[];
  /** When the load started (epoch ms), and the system's failures (not the probe's) by the second their request was sent in, from then. */
  startedAt: number;
  failuresBySecond: number[];
  /** Requests not sent because `maxInFlight` were still waiting for their answers (0 without a limit). */
  notSent: number;
}

function counts(): LoadCounts {
  return { ok: 0, failed: 0, errors: [], probeFailed: 0, probeErrors: [] };
}

function fail(target: LoadCounts, message: string): void {
  target.failed += 1;
  if (target.errors.length < 10) target.errors.push(message);
}

/** How late this process's timers ran, sampled every 10 ms: the longest stall in a time window. */
class StallMonitor {
  private readonly samples: { at: number; lagMs: number }[] = [];
  private last = performance.now();
  private readonly timer = setInterval(() => {
    const now = performance.now();
    this.samples.push({ at: now, lagMs: now - this.last - 10 });
    this.last = now;
    if (this.samples.length > 200_000) this.samples.splice(0, 100_000);
  }, 10);

  longestStall(from: number, to: number): number {
    let longest = 0;
    for (const sample of this.samples) if (sample.at >= from && sample.at <= to + 50) longest = Math.max(longest, sample.lagMs);
    return Math.max(longest, performance.now() - this.last - 10);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

function isTimeout(error: unknown): boolean {
  const text = `${(error as Error)?.name ?? ''} ${(error as Error)?.message ?? ''}`;
  return /TimeoutError|aborted due to timeout|DEADLINE_EXCEEDED|Deadline exceeded/i.test(text);
}

function assertLocal(url: string): void {
  const host = new URL(url.includes('://') ? url : `http://${url}`).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost') throw new Error(`load only targets 127.0.0.1, not ${host}`);
}

/** Connections the load keeps open for HTTP by default (gRPC multiplexes one). */
const DEFAULT_CONNECTIONS = 32;

function plainGet(url: string, agent: HttpAgent, timeoutMs: number): Promise<{ status: number; body: string }> {
  const signal = AbortSignal.timeout(timeoutMs);
  return new Promise((resolve, reject) => {
    // A timeout rejects with the signal's TimeoutError, which isTimeout() recognises.
    const failed = (error: unknown) => reject(signal.aborted ? signal.reason : error);
    const req = httpRequest(url, { method: 'GET', agent, signal }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', failed);
    });
    req.on('error', failed);
    req.end();
  });
}

/**
 * What the load sends. `app`: web-ui pages (/login, every tenth /readyz) and authenticated
 * SyncRules calls, the work users cause. `probes`: /readyz and grpc.health.v1 Health/Check, the
 * load balancer's and monitors' kind of traffic, cheap enough for the app that 1,300 requests/s
 * measure the release and the routing, not a 2-core machine running out of CPU for pages.
 */
export type LoadRequests = 'app' | 'probes';

export interface RunningLoad {
  stop(): Promise<LoadReport>;
}

/** Starts `ratePerSecond` requests a second, alternating HTTP and gRPC, until stopped. */
export function startLoad(
  target: LoadTarget,
  options: {
    ratePerSecond?: number;
    maxSeconds?: number;
    requests?: LoadRequests;
    /**
     * HTTP connections kept open (@default 32). Each carries rate / connections requests a
     * second, so it must be large enough for the rate at the latency of a busy moment: 650 HTTP
     * requests a second on 32 connections queue in this process once answers take 50 ms, and
     * then every queued request times out here, however well the system answers.
     */
    connections?: number;
    /**
     * Requests waiting for an answer at most; one due beyond it is not sent (counted in
     * `notSent`). Unbounded, a load that outpaces the answers piles up requests in this process
     * until it spends its CPU timing them out: at 1,300 req/s on 2 cores, during a release, it
     * timed out 95% of its own requests and the system behind it saw a fraction of the load.
     * @default unbounded
     */
    maxInFlight?: number;
  } = {},
): RunningLoad {
  assertLocal(target.httpUrl);
  assertLocal(target.grpcAddress);
  const rate = options.ratePerSecond ?? 120;
  const requests = options.requests ?? 'app';
  const maxSeconds = options.maxSeconds ?? 600;
  const http = counts();
  const grpc = counts();
  const releasesSeen: string[] = [];
  const port = Number(target.grpcAddress.split(':').pop());
  const { tls } = target;
  const client: SensorClient = connectSensorClient(port, '127.0.0.1', tls && { ca: tls.ca, serverName: tls.grpcServerName });
  // A bounded pool of kept-alive connections, as browsers and sensors hold them. Unbounded, the
  // pool grows with every slow moment until Docker's port proxy runs out of file descriptors:
  // it then stops accepting for good, and the port refuses every connection (seen at 1,300 req/s
  // on a 2-core machine whose dockerd has a 20,000-file limit).
  const connections = options.connections ?? DEFAULT_CONNECTIONS;
  const httpAgent = tls ? undefined : new HttpAgent({ keepAlive: true, maxSockets: connections });
  const httpsAgent = tls ? new HttpsAgent({ keepAlive: true, maxSockets: connections }) : undefined;
  const get = async (path: string): Promise<{ status: number; body: string }> => {
    if (!tls) return plainGet(`${target.httpUrl}${path}`, httpAgent!, 10_000);
    const answer = await httpsGet(`${target.httpUrl}${path}`, { tls: { ca: tls.ca, serverName: tls.httpServerName }, timeoutMs: 10_000, agent: httpsAgent! });
    if ('unreachable' in answer) throw new Error(answer.unreachable);
    return answer;
  };
  const pending = new Set<Promise<void>>();
  const started = Date.now();
  const startedPerf = performance.now();
  const failuresBySecond: number[] = [];
  const stalls = new StallMonitor();
  let sent = 0;
  let due = 0;
  let notSent = 0;
  const maxInFlight = options.maxInFlight ?? Number.POSITIVE_INFINITY;

  const failure = (target: LoadCounts, requestStarted: number, error: unknown, message: string) => {
    if (isTimeout(error) && stalls.longestStall(requestStarted, performance.now()) >= PROBE_STALL_MS) {
      target.probeFailed += 1;
      if (target.probeErrors.length < 10) target.probeErrors.push(message);
      return;
    }
    fail(target, message);
    const second = Math.floor((requestStarted - startedPerf) / 1000);
    failuresBySecond[second] = (failuresBySecond[second] ?? 0) + 1;
  };

  const track = (work: Promise<void>) => {
    pending.add(work);
    void work.finally(() => pending.delete(work));
  };
  const httpOnce = async (path: string) => {
    const requestStarted = performance.now();
    try {
      const { status, body } = await get(path);
      if (status !== 200) return failure(http, requestStarted, null, `GET ${path} -> ${status} ${body.slice(0, 120)}`);
      if (path === '/readyz') {
        const release = (JSON.parse(body) as { release?: string | null }).release;
        if (release && !releasesSeen.includes(release)) releasesSeen.push(release);
      }
      http.ok += 1;
    } catch (error) {
      failure(http, requestStarted, error, `GET ${path} -> ${(error as Error).message}`);
    }
  };
  const grpcOnce = async () => {
    const requestStarted = performance.now();
    const call = requests === 'app' ? 'SyncRules' : 'Health/Check';
    try {
      if (requests === 'app') await client.syncRules({ tags: [] }, { apiKey: target.apiKey, deadlineMs: 10_000 });
      else {
        const status = await client.healthCheck('', { deadlineMs: 10_000 });
        if (status !== 'SERVING') return failure(grpc, requestStarted, null, `${call} -> ${status}`);
      }
      grpc.ok += 1;
    } catch (error) {
      failure(grpc, requestStarted, error, `${call} -> ${(error as Error).message}`);
    }
  };

  // Catch up to rate x elapsed on every tick: timers alone drift below the target rate.
  const timer = setInterval(() => {
    const elapsed = Date.now() - started;
    if (elapsed > maxSeconds * 1000) {
      clearInterval(timer);
      return;
    }
    const dueNow = Math.floor((elapsed / 1000) * rate);
    while (due < dueNow) {
      due += 1;
      if (pending.size >= maxInFlight) {
        notSent += 1;
        continue;
      }
      sent += 1;
      if (due % 2 === 0) track(grpcOnce());
      else track(httpOnce(requests === 'probes' || due % 10 === 1 ? '/readyz' : '/login'));
    }
  }, 10);

  return {
    async stop() {
      clearInterval(timer);
      await Promise.all([...pending]);
      stalls.stop();
      client.close();
      httpAgent?.destroy();
      httpsAgent?.destroy();
      const seconds = (Date.now() - started) / 1000;
      return { http, grpc, seconds, rate: sent / seconds, releasesSeen, startedAt: started, failuresBySecond: Array.from(failuresBySecond, (n) => n ?? 0), notSent };
    },
  };
}

/**
 * `count` requests that each stay in flight for `durationMs`: a POST whose body is trickled
 * byte by byte, so the request sits on whichever slot served it when it started. Resolves with
 * the status codes (the app answers 403 to a login without a CSRF token: a complete answer).
 */
export function slowRequests(httpUrl: string, count: number, durationMs: number): { started: Promise<void>; done: Promise<number[]> } {
  assertLocal(httpUrl);
  const url = new URL('/login', httpUrl);
  const body = 'username=load&password=never-valid-password';
  let headersSent = 0;
  let signalStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (signalStarted = resolve));
  const one = () =>
    new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        url,
        { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.flushHeaders();
      headersSent += 1;
      if (headersSent === count) setTimeout(signalStarted, 200);
      const step = durationMs / body.length;
      let index = 0;
      const trickle = setInterval(() => {
        req.write(body[index]!);
        index += 1;
        if (index === body.length) {
          clearInterval(trickle);
          req.end();
        }
      }, step);
    });
  return { started, done: Promise.all(Array.from({ length: count }, one)) };
}
