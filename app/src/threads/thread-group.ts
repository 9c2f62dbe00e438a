import type { Logger } from '../log/logger.js';
import { WorkerThread, type WorkerThreadOptions } from './worker-thread.js';

export interface ThreadGroupOptions extends WorkerThreadOptions {
  /** Threads kept running. */
  size: number;
  logger: Logger;
}

/** A thread that died while loading would likely die again: it is retried slowly, not in a loop. */
const RESTART_AFTER_FAILED_START_MS = 1_000;

/**
 * A fixed number of worker threads, kept at that number: a thread that crashes or exits fails
 * its own calls and is replaced. While a replacement is pending, `leastBusy` may find none;
 * callers then do the work on the main thread.
 */
export class ThreadGroup<Request, Result> {
  private readonly threads: WorkerThread<Request, Result>[] = [];
  private closing = false;

  private constructor(private readonly options: ThreadGroupOptions) {}

  /** Starts `size` threads and waits until all have loaded; if one fails to, stops all and throws. */
  static async start<Request, Result>(options: ThreadGroupOptions): Promise<ThreadGroup<Request, Result>> {
    const group = new ThreadGroup<Request, Result>(options);
    for (let index = 0; index < options.size; index++) group.threads.push(group.spawn());
    try {
      await Promise.all(group.threads.map((thread) => thread.ready));
    } catch (error) {
      await group.close();
      throw error;
    }
    return group;
  }

  get closed(): boolean {
    return this.closing;
  }

  /** Threads that have loaded and not stopped. */
  running(): number {
    return this.threads.filter((thread) => thread.started && !thread.stopped).length;
  }

  /** The live thread with the fewest unanswered calls; undefined while every one is being replaced. */
  leastBusy(): WorkerThread<Request, Result> | undefined {
    let best: WorkerThread<Request, Result> | undefined;
    for (const thread of this.threads) {
      if (!thread.stopped && (!best || thread.pendingCalls < best.pendingCalls)) best = thread;
    }
    return best;
  }

  /** Stops every thread; their unanswered calls fail. */
  async close(): Promise<void> {
    this.closing = true;
    const threads = this.threads.splice(0);
    await Promise.all(threads.map((thread) => thread.terminate(`the ${this.options.name} was stopped`)));
  }

  private spawn(): WorkerThread<Request, Result> {
    const { name, logger } = this.options;
    const thread = new WorkerThread<Request, Result>(this.options, (error) => {
      if (!this.closing) logger.error({ err: error }, `${name} crashed`);
    });
    void thread.exited.then((exitCode) => {
      const index = this.threads.indexOf(thread);
      if (this.closing || index < 0) return;
      this.threads.splice(index, 1);
      const delayMs = thread.started ? 0 : RESTART_AFTER_FAILED_START_MS;
      logger.warn({ exitCode, restartInMs: delayMs }, `${name} stopped; starting a new one`);
      const restart = setTimeout(() => {
        if (!this.closing) this.threads.push(this.spawn());
      }, delayMs);
      restart.unref();
    });
    return thread;
  }
}
