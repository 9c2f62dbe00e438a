import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * One worker thread that answers calls: the main thread posts a request, the thread (running
 * serveCalls) replies with a result or an error. Calls made before the thread has loaded wait
 * in its message queue. If the thread crashes or exits, its unanswered calls fail.
 */

/** An error as it crosses from a thread: what callers need to classify and report it. */
export interface ThreadError {
  message: string;
  stack: string | undefined;
  /** The driver's or Node's error code (SQLITE_BUSY, ENOENT, ...), when there was one. */
  code: string | undefined;
}

export interface CallMessage<Request> {
  callId: number;
  request: Request;
}

export type ThreadMessage<Result> =
  | { kind: 'ready' }
  | { kind: 'done'; callId: number; result: Result }
  | { kind: 'failed'; callId: number; error: ThreadError };

export interface WorkerThreadOptions {
  /** What the thread is, for messages: "ingestion worker". */
  name: string;
  /** The entry module's compiled URL (`new URL('./x.js', import.meta.url)`); from the sources, x.ts runs. */
  entry: URL;
  /** Fixed settings the thread reads as `workerData`. */
  workerData: unknown;
  /** The thread's heap limit; a thread that exceeds it dies alone. @default Node's */
  heapLimitMb?: number;
  /** How long the thread may take to load before `ready` rejects. @default 30_000 */
  startTimeoutMs?: number | undefined;
  /**
   * The thread's handler is synchronous, so it runs calls one after another in the order they
   * were posted: when it dies, only the oldest unanswered call was running, and the others fail
   * with CallNotStartedError, which tells the caller that they are safe to make again.
   */
  oneCallAtATime?: boolean;
}

/** A call that a thread answered with an error; `code` carries the original error's code. */
export class ThreadCallError extends Error {
  readonly code: string | undefined;

  constructor(name: string, error: ThreadError) {
    super(`${name}: ${error.message}`);
    this.name = 'ThreadCallError';
    this.code = error.code;
    if (error.stack) this.stack = error.stack;
  }
}

/** The thread stopped before it began this call (see WorkerThreadOptions.oneCallAtATime). */
export class CallNotStartedError extends Error {
  constructor(name: string, why: string) {
    super(`the ${name} ${why} before it began this call`);
    this.name = 'CallNotStartedError';
  }
}

const DEFAULT_START_TIMEOUT_MS = 30_000;

/** Node 20's worker threads do not inherit tsx's loader: under tsx the thread registers it first. */
function spawn(options: WorkerThreadOptions): Worker {
  const workerOptions = {
    workerData: options.workerData,
    ...(options.heapLimitMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: options.heapLimitMb } }),
  };
  if (extname(fileURLToPath(import.meta.url)) !== '.ts') return new Worker(options.entry, workerOptions);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const source = options.entry.href.replace(/\.js$/, '.ts');
  const bootstrap = `import(${JSON.stringify(tsxApi)})
    .then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); })
    .catch((error) => { process.nextTick(() => { throw error; }); });`;
  return new Worker(bootstrap, { ...workerOptions, eval: true });
}

interface PendingCall<Result> {
  resolve(result: Result): void;
  reject(error: Error): void;
}

export class WorkerThread<Request, Result> {
  /** Resolves once the thread has loaded; rejects if it fails to (crash, exit, timeout). */
  readonly ready: Promise<void>;
  /** Resolves with the exit code once the thread has stopped, for whatever reason. */
  readonly exited: Promise<number>;
  /** Whether the thread has loaded. */
  started = false;
  /** Whether the thread has crashed or exited (its replacement is another WorkerThread). */
  stopped = false;
  private readonly worker: Worker;
  private readonly pending = new Map<number, PendingCall<Result>>();
  private nextCallId = 1;

  constructor(
    private readonly options: WorkerThreadOptions,
    /** Told when the thread crashes (an uncaught error, a heap exhausted). */
    onCrash: (error: Error) => void,
  ) {
    this.worker = spawn(options);
    let markReady!: () => void;
    let failStart!: (error: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failStart = reject;
    });
    // Callers that never await ready (a replacement thread) learn of a failure from `exited`.
    this.ready.catch(() => undefined);
    const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const startTimer = setTimeout(
      () => failStart(new Error(`the ${options.name} did not start within ${startTimeoutMs} ms`)),
      startTimeoutMs,
    );
    startTimer.unref();
    this.worker.on('message', (message: ThreadMessage<Result>) => {
      if (message.kind === 'ready') {
        this.started = true;
        clearTimeout(startTimer);
        markReady();
        return;
      }
      const call = this.pending.get(message.callId);
      if (!call) return;
      this.pending.delete(message.callId);
      if (message.kind === 'done') call.resolve(message.result);
      else call.reject(new ThreadCallError(options.name, message.error));
    });
    this.worker.on('error', (error) => {
      this.stopped = true;
      clearTimeout(startTimer);
      failStart(error);
      onCrash(error);
      this.failPending(new Error(`the ${options.name} handling this call crashed: ${error.message}`), 'crashed');
    });
    this.exited = new Promise<number>((resolve) => {
      this.worker.on('exit', (code) => {
        this.stopped = true;
        clearTimeout(startTimer);
        failStart(new Error(`the ${options.name} exited with code ${code} while starting`));
        this.failPending(new Error(`the ${options.name} handling this call exited with code ${code}`), `exited with code ${code}`);
        resolve(code);
      });
    });
  }

  /** Calls posted and not answered yet. */
  get pendingCalls(): number {
    return this.pending.size;
  }

  call(request: Request): Promise<Result> {
    const callId = this.nextCallId++;
    return new Promise<Result>((resolve, reject) => {
      this.pending.set(callId, { resolve, reject });
      this.worker.postMessage({ callId, request } satisfies CallMessage<Request>);
    });
  }

  /** Stops the thread; its unanswered calls fail with `reason`. */
  async terminate(reason: string): Promise<void> {
    this.failPending(new Error(reason));
    await this.worker.terminate();
  }

  /** Fails the unanswered calls; with `died`, the ones that had not started learn they had not. */
  private failPending(error: Error, died?: string): void {
    const calls = [...this.pending.values()];
    this.pending.clear();
    // Map order is posting order: with one call at a time, the first was the one running.
    calls.forEach((call, index) => {
      const notStarted = died !== undefined && this.options.oneCallAtATime === true && index > 0;
      call.reject(notStarted ? new CallNotStartedError(this.options.name, died) : error);
    });
  }
}
