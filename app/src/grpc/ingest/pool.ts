import type { Logger } from '../../log/logger.js';
import type { Rule } from '../../rules/model.js';
import { ThreadGroup } from '../../threads/thread-group.js';
import { CallNotStartedError, type WorkerThread } from '../../threads/worker-thread.js';
import type { PrepareRequest, WorkerSettings } from './messages.js';
import { prepareReportEventsBatch, type PreparedBatch } from './prepare-batch.js';

/**
 * Where ReportEvents batches are prepared (decoded, checked, evaluated against the rules):
 * on ingestion worker threads, so that this CPU work runs beside the main thread's gRPC and
 * database work instead of taking turns with it; or, with no workers, on the main thread.
 * Both run the same prepareReportEventsBatch.
 *
 * Clients are isolated from each other's batches: a batch's decoding stops at the batch limit
 * (so a request of millions of tiny events costs what max_batch_size events cost), each worker's
 * heap has room for the largest batch the limits admit, and should a worker die all the same,
 * only the batch it was preparing fails: the ones queued behind it are prepared again, on another
 * worker or, while none is running, on the main thread.
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
   * INTERNAL and a new worker starts), not the server nor the batches queued behind it.
   * @default room for the largest batch the limits admit: 32 MiB per MiB of max message size
   * plus 1 KiB per event of max batch size, at least 256 MiB
   */
  workerHeapLimitMb?: number;
  maxMessageBytes: number;
  /** How long a new worker may take to load before startup fails. @default 30_000 */
  startTimeoutMs?: number;
}

/**
 * Room a decoded request may take, as a multiple of its size on the wire: payloads of tiny
 * values measured at most ~20 times their wire size while being prepared.
 */
const HEAP_PER_MESSAGE_BYTE = 32;
/**
 * Room each event of a batch may take besides its payload: an event of a few bytes on the wire
 * measured ~800 bytes while being prepared (its objects, its result, its row). Without this, a
 * large max_batch_size would admit batches of tiny events that no heap sized by bytes can hold.
 */
const HEAP_BYTES_PER_EVENT = 1024;
const MIN_WORKER_HEAP_MB = 256;

function defaultHeapLimitMb(maxMessageBytes: number, maxBatchSize: number): number {
  const bytes = maxMessageBytes * HEAP_PER_MESSAGE_BYTE + maxBatchSize * HEAP_BYTES_PER_EVENT;
  return Math.max(MIN_WORKER_HEAP_MB, Math.ceil(bytes / (1024 * 1024)));
}

export async function startBatchPreparer(options: BatchPreparerOptions): Promise<BatchPreparer> {
  if (options.workers === 0) {
    return {
      workers: 0,
      running: () => 0,
      prepare: async (bytes, _tenantId, rules) => prepareReportEventsBatch(bytes, rules, options.maxBatchSize),
      close: async () => undefined,
    };
  }
  const settings: WorkerSettings = { maxBatchSize: options.maxBatchSize };
  const threads = await ThreadGroup.start<PrepareRequest, PreparedBatch>({
    name: 'ingestion worker',
    entry: new URL('./worker.js', import.meta.url),
    workerData: settings,
    size: options.workers,
    oneCallAtATime: true,
    heapLimitMb: options.workerHeapLimitMb ?? defaultHeapLimitMb(options.maxMessageBytes, options.maxBatchSize),
    startTimeoutMs: options.startTimeoutMs,
    logger: options.logger,
  });
  return new WorkerPool(options, threads);
}

type IngestionThread = WorkerThread<PrepareRequest, PreparedBatch>;

class WorkerPool implements BatchPreparer {
  readonly workers: number;
  private readonly generationOf = new WeakMap<readonly Rule[], number>();
  /** The rules generation each thread holds, per tenant. */
  private readonly heldGenerations = new WeakMap<IngestionThread, Map<string, number>>();
  private nextGeneration = 1;

  constructor(
    private readonly options: BatchPreparerOptions,
    private readonly threads: ThreadGroup<PrepareRequest, PreparedBatch>,
  ) {
    this.workers = options.workers;
  }

  running(): number {
    return this.threads.running();
  }

  async prepare(bytes: Uint8Array, tenantId: string, rules: readonly Rule[]): Promise<PreparedBatch> {
    try {
      return await this.prepareOnce(bytes, tenantId, rules);
    } catch (error) {
      // Queued behind a batch that killed its worker: this batch is innocent, so it is prepared
      // again (once; the worker's death is logged by the ThreadGroup).
      if (!(error instanceof CallNotStartedError)) throw error;
      return this.prepareOnce(bytes, tenantId, rules);
    }
  }

  private prepareOnce(bytes: Uint8Array, tenantId: string, rules: readonly Rule[]): Promise<PreparedBatch> {
    if (this.threads.closed) return Promise.reject(new Error('the ingestion workers are stopped'));
    const thread = this.threads.leastBusy();
    // Every worker is being replaced after a crash: the main thread does the work meanwhile.
    if (!thread) return Promise.resolve(prepareReportEventsBatch(bytes, rules, this.options.maxBatchSize));
    const generation = this.generation(rules);
    const request: PrepareRequest = { bytes, tenantId, rulesGeneration: generation };
    const held = this.heldBy(thread);
    if (held.get(tenantId) !== generation) {
      request.rules = rules;
      held.set(tenantId, generation);
    }
    return thread.call(request);
  }

  close(): Promise<void> {
    return this.threads.close();
  }

  private heldBy(thread: IngestionThread): Map<string, number> {
    let held = this.heldGenerations.get(thread);
    if (!held) {
      held = new Map();
      this.heldGenerations.set(thread, held);
    }
    return held;
  }

  private generation(rules: readonly Rule[]): number {
    let generation = this.generationOf.get(rules);
    if (generation === undefined) {
      generation = this.nextGeneration++;
      this.generationOf.set(rules, generation);
    }
    return generation;
  }
}
