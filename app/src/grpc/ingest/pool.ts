import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../log/logger.js';
import type { Rule } from '../../rules/model.js';
import type { PrepareRequest, WorkerReply, WorkerSettings } from './messages.js';
import { prepareReportEventsBatch, type PreparedBatch } from './prepare-batch.js';

/**
 * Where ReportEvents batches are prepared (decoded, checked, evaluated against the rules):
 * on ingestion worker threads, so that this CPU work runs beside the main thread's gRPC and
 * database work instead of taking turns with it; or, with no workers, on the main thread.
 * Both run the same prepareReportEventsBatch.
 */
export interface BatchPreparer {
  /** Worker threads configured. */
  readonly workers: number;
  /** Worker threads started and not stopped: fewer than `workers` while one is being replaced. */
  running(): number;
  prepare(bytes: Uint8Array, tenantId: string, rules: readonly Rule[]): Promise<PreparedBatch>;
  /** Stops the workers; batches still being prepared fail. */
  close(): Promise<void>;
}

export interface BatchPreparerOptions {
  /** Worker threads; 0 prepares on the main thread. */
  workers: number;
  maxBatchSize: number;
  logger: Logger;
  /**
   * Each worker's heap limit. A batch that needs more costs that worker (its call fails
   * INTERNAL and a new worker starts), not the server. @default 32 MiB per MiB of max message
   * size, at least 256
   */
  workerHeapLimitMb?: number;
  maxMessageBytes: number;
  /** How long a new worker may take to load before startup fails. @default 30_000 */
  startTimeoutMs?: number;
}

/** Room a decoded request may take, as a multiple of its size on the wire. */
const HEAP_PER_MESSAGE_BYTE = 32;
const MIN_WORKER_HEAP_MB = 256;

function defaultHeapLimitMb(maxMessageBytes: number): number {
  return Math.max(MIN_WORKER_HEAP_MB, Math.ceil((maxMessageBytes * HEAP_PER_MESSAGE_BYTE) / (1024 * 1024)));
}

const RESPAWN_AFTER_FAILED_START_MS = 1_000;

/** Starts worker.js beside this module, or worker.ts when running from the sources under tsx. */
function startWorker(heapLimitMb: number, settings: WorkerSettings): Worker {
  const options = { resourceLimits: { maxOldGenerationSizeMb: heapLimitMb }, workerData: settings };
  if (extname(fileURLToPath(import.meta.url)) !== '.ts') return new Worker(new URL('./worker.js', import.meta.url), options);
  // tsx's loader does not carry into worker threads on Node 20: the worker registers it first.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)})
    .then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })
    .catch((error) => { process.nextTick(() => { throw error; }); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

const DEFAULT_START_TIMEOUT_MS = 30_000;

export async function startBatchPreparer(options: BatchPreparerOptions): Promise<BatchPreparer> {
  if (options.workers === 0) {
    return {
      workers: 0,
      running: () => 0,
      prepare: async (bytes, _tenantId, rules) => prepareReportEventsBatch(bytes, rules, options.maxBatchSize),
      close: async () => undefined,
    };
  }
  const pool = new WorkerPool(options);
  await pool.start();
  return pool;
}

interface PendingTask {
  resolve(batch: PreparedBatch): void;
  reject(error: Error): void;
}

interface WorkerSlot {
  worker: Worker;
  pending: Map<number, PendingTask>;
  /** The rules generation this worker holds, per tenant. */
  generations: Map<string, number>;
  ready: Promise<void>;
  started: boolean;
}

class WorkerPool implements BatchPreparer {
  readonly workers: number;
  private readonly heapLimitMb: number;
  private readonly startTimeoutMs: number;
  private readonly slots: WorkerSlot[] = [];
  private readonly generationOf = new WeakMap<readonly Rule[], number>();
  private nextGeneration = 1;
  private nextTaskId = 1;
  private closing = false;

  constructor(private readonly options: BatchPreparerOptions) {
    this.workers = options.workers;
    this.heapLimitMb = options.workerHeapLimitMb ?? defaultHeapLimitMb(options.maxMessageBytes);
    this.startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  }

  running(): number {
    return this.slots.filter((slot) => slot.started).length;
  }

  async start(): Promise<void> {
    for (let index = 0; index < this.workers; index++) this.slots.push(this.spawn());
    try {
      await Promise.all(this.slots.map((slot) => slot.ready));
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  prepare(bytes: Uint8Array, tenantId: string, rules: readonly Rule[]): Promise<PreparedBatch> {
    if (this.closing) return Promise.reject(new Error('the ingestion workers are stopped'));
    const slot = this.leastBusy();
    // Every worker is being replaced after a crash: the main thread does the work meanwhile.
    if (!slot) return Promise.resolve(prepareReportEventsBatch(bytes, rules, this.options.maxBatchSize));
    const taskId = this.nextTaskId++;
    const generation = this.generation(rules);
    const request: PrepareRequest = { taskId, bytes, tenantId, rulesGeneration: generation };
    if (slot.generations.get(tenantId) !== generation) {
      request.rules = rules;
      slot.generations.set(tenantId, generation);
    }
    return new Promise<PreparedBatch>((resolve, reject) => {
      slot.pending.set(taskId, { resolve, reject });
      slot.worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    const slots = this.slots.splice(0);
    await Promise.all(slots.map(async (slot) => {
      this.failPending(slot, new Error('the ingestion workers were stopped'));
      await slot.worker.terminate();
    }));
  }

  private generation(rules: readonly Rule[]): number {
    let generation = this.generationOf.get(rules);
    if (generation === undefined) {
      generation = this.nextGeneration++;
      this.generationOf.set(rules, generation);
    }
    return generation;
  }

  private leastBusy(): WorkerSlot | undefined {
    let best: WorkerSlot | undefined;
    for (const slot of this.slots) if (!best || slot.pending.size < best.pending.size) best = slot;
    return best;
  }

  private spawn(): WorkerSlot {
    const worker = startWorker(this.heapLimitMb, { maxBatchSize: this.options.maxBatchSize });
    let markReady!: () => void;
    let failStart!: (error: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failStart = reject;
    });
    // A replacement's ready is never awaited; its failure is reported by 'exit' instead.
    ready.catch(() => undefined);
    const startTimer = setTimeout(
      () => failStart(new Error(`an ingestion worker did not start within ${this.startTimeoutMs} ms`)),
      this.startTimeoutMs,
    );
    startTimer.unref();
    const slot: WorkerSlot = { worker, pending: new Map(), generations: new Map(), ready, started: false };
    worker.on('message', (reply: WorkerReply) => {
      if (reply.kind === 'ready') {
        slot.started = true;
        clearTimeout(startTimer);
        markReady();
        return;
      }
      const task = slot.pending.get(reply.taskId);
      if (!task) return;
      slot.pending.delete(reply.taskId);
      if (reply.kind === 'done') {
        task.resolve(reply.batch);
      } else {
        const error = new Error(`an ingestion worker failed to prepare a batch: ${reply.message}`);
        if (reply.stack) error.stack = reply.stack;
        task.reject(error);
      }
    });
    worker.on('error', (error) => {
      clearTimeout(startTimer);
      failStart(error);
      if (!this.closing) this.options.logger.error({ err: error }, 'an ingestion worker crashed');
      this.failPending(slot, new Error(`the ingestion worker preparing this batch crashed: ${error.message}`));
    });
    worker.on('exit', (code) => {
      clearTimeout(startTimer);
      failStart(new Error(`an ingestion worker exited with code ${code} while starting`));
      this.failPending(slot, new Error(`the ingestion worker preparing this batch exited with code ${code}`));
      const index = this.slots.indexOf(slot);
      if (this.closing || index < 0) return;
      this.slots.splice(index, 1);
      // One that died while loading would likely die again: retry it slowly, not in a loop.
      const delayMs = slot.started ? 0 : RESPAWN_AFTER_FAILED_START_MS;
      this.options.logger.warn({ exitCode: code, restartInMs: delayMs }, 'an ingestion worker stopped; starting a new one');
      const respawn = setTimeout(() => {
        if (!this.closing) this.slots.push(this.spawn());
      }, delayMs);
      respawn.unref();
    });
    return slot;
  }

  private failPending(slot: WorkerSlot, error: Error): void {
    const tasks = [...slot.pending.values()];
    slot.pending.clear();
    for (const task of tasks) task.reject(error);
  }
}
