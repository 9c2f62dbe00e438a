import { setTimeout as sleep } from 'node:timers/promises';
import { DeployError } from '../../../components/errors.js';

/** A long-running operation as the clients' checkXProgress returns it. */
export interface PolledOperation<T> {
  name?: string | null;
  done?: boolean | null;
  result?: T | null;
  error?: { code?: number | null; message?: string | null } | null;
  latestResponse?: { done?: boolean | null; error?: { code?: number | null; message?: string | null } | null };
}

export interface WaitOptions {
  /** What is being waited for, in messages: `revision tk-dev-web-ui-blue-... to become ready`. */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Called about every 10 s with the time waited so far. */
  onProgress?: (waitedMs: number) => void;
  fix: string;
}

/**
 * Polls a long-running operation until it is done, at most `timeoutMs` (the clients' own
 * `promise()` backs off up to a minute between polls and waits without bound).
 */
export async function waitForOperation<T>(name: string, check: (name: string) => Promise<PolledOperation<T>>, options: WaitOptions): Promise<T> {
  const started = Date.now();
  let lastReport = started;
  for (;;) {
    const operation = await check(name);
    const error = operation.error ?? operation.latestResponse?.error;
    if (operation.done || operation.latestResponse?.done) {
      if (error && (error.code ?? 0) !== 0) throw new DeployError(`Waiting for ${options.what} failed: ${error.message ?? `code ${error.code}`}`, options.fix);
      return operation.result as T;
    }
    const waited = Date.now() - started;
    if (waited > options.timeoutMs) throw new DeployError(`Gave up waiting for ${options.what} after ${Math.round(waited / 1000)} s (operation ${name})`, options.fix);
    if (Date.now() - lastReport >= 10_000) {
      lastReport = Date.now();
      options.onProgress?.(waited);
    }
    await sleep(options.intervalMs ?? 500);
  }
}
