import * as http from 'node:http';
import * as https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a sink sends in one attempt (built again for every attempt: a webhook signs each with its own time). */
export interface SinkRequest {
  headers: Record<string, string>;
  body: string;
}

/** Exponential backoff between attempts: the Nth wait is between half and all of min(cap, base * 2^(N-1)). */
export const BACKOFF = { baseMs: 250, capMs: 4_000 } as const;
/** An attempt with less time than this left is not started: it could not get an answer. */
const MIN_ATTEMPT_MS = 50;
/** Enough of an error response to say why (Slack answers `no_service`, `invalid_payload`…). */
const ERROR_BODY_CHARS = 120;

/**
 * The pause after the `failures`-th failed attempt. "Equal jitter": half the exponential step is
 * fixed, the other half random, so retries of many releases spread out yet still back off.
 */
export function backoffDelay(failures: number, random: number = Math.random()): number {
  const step = Math.min(BACKOFF.capMs, BACKOFF.baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(step / 2 + (random * step) / 2);
}

export type AttemptOutcome = { ok: true; status: number } | { ok: false; retry: boolean; reason: string; retryAfterMs?: number };

/** Statuses worth another attempt: the receiver is overloaded, restarting or briefly broken. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** `Retry-After` in seconds or as an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, ERROR_BODY_CHARS);
}

/** A network error by its code (ECONNREFUSED), never by a message that could hold the URL's path. */
function describeNetworkError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' ? code : 'network error';
}

/**
 * One POST, cut after `timeoutMs` (connecting, sending and reading the answer included) or when
 * `signal` aborts. Never throws. A fresh connection each time (`agent: false`), so nothing
 * pooled keeps the release process alive after the last notification.
 */
export function postOnce(url: string, request: SinkRequest, timeoutMs: number, signal: AbortSignal): Promise<AttemptOutcome> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const attempt = new AbortController();
    let timedOut = false;
    let settled = false;
    // Aborting settles at once: a hanging receiver cannot hold the attempt by never closing.
    const timer = setTimeout(() => {
      timedOut = true;
      attempt.abort();
      finish({ ok: false, retry: true, reason: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    const onAbort = () => {
      attempt.abort();
      finish({ ok: false, retry: false, reason: 'abandoned: the release process is exiting' });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    function finish(outcome: AttemptOutcome) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    }
    const body = Buffer.from(request.body, 'utf8');
    const req = client.request(
      target,
      { method: 'POST', headers: { ...request.headers, 'content-length': String(body.length) }, signal: attempt.signal, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < ERROR_BODY_CHARS * 4) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('error', (error) => finish({ ok: false, retry: true, reason: timedOut ? `no answer within ${timeoutMs} ms` : describeNetworkError(error) }));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return finish({ ok: true, status });
          const said = printable(Buffer.concat(chunks).toString('utf8'));
          const reason = `HTTP ${status}${said ? ` (${said})` : ''}`;
          const retryAfter = retryAfterMs(typeof res.headers['retry-after'] === 'string' ? res.headers['retry-after'] : undefined);
          finish({ ok: false, retry: isRetryableStatus(status), reason, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}) });
        });
      },
    );
    req.on('error', (error) => {
      const reason = timedOut ? `no answer within ${timeoutMs} ms` : signal.aborted ? 'abandoned: the release process is exiting' : describeNetworkError(error);
      finish({ ok: false, retry: !signal.aborted, reason });
    });
    req.end(body);
  });
}

export interface DeliveryPolicy {
  attemptTimeoutMs: number;
  /** Epoch ms after which no attempt starts and the running one is cut. */
  deadline: number;
  /** Aborts the delivery at once (the release process is exiting). */
  signal: AbortSignal;
}

export interface DeliveryResult {
  delivered: boolean;
  attempts: number;
  /** Why the last attempt failed, when not delivered. */
  reason?: string;
}

/**
 * Sends one notification: attempts until one succeeds, a failure is not worth repeating (a 4xx,
 * a redirect), or the deadline comes; exponential backoff with jitter between attempts (or the
 * receiver's Retry-After when longer). Never throws and never runs past the deadline.
 */
export async function deliver(url: string, build: () => SinkRequest, policy: DeliveryPolicy): Promise<DeliveryResult> {
  let attempts = 0;
  let reason = `no time left within the delivery timeout`;
  for (;;) {
    const remaining = policy.deadline - Date.now();
    if (remaining < MIN_ATTEMPT_MS || policy.signal.aborted) break;
    attempts += 1;
    const outcome = await postOnce(url, build(), Math.min(policy.attemptTimeoutMs, remaining), policy.signal);
    if (outcome.ok) return { delivered: true, attempts };
    reason = outcome.reason;
    if (!outcome.retry) break;
    const wait = Math.max(backoffDelay(attempts), outcome.retryAfterMs ?? 0);
    if (Date.now() + wait + MIN_ATTEMPT_MS > policy.deadline) break;
    try {
      await sleep(wait, undefined, { signal: policy.signal });
    } catch {
      reason = 'abandoned: the release process is exiting';
      break;
    }
  }
  return { delivered: false, attempts, reason };
}
