import type { Logger } from '../log/logger.js';
import { ThreadGroup } from '../threads/thread-group.js';
import { EventWriter } from './event-writer.js';
import type { EventBatch } from './events.js';
import type { Database } from './types.js';

/** Where the sensor API stores event batches. */
export interface EventStore {
  /** True when batches are written on the event writer thread. */
  readonly threaded: boolean;
  /** Stores the batch (see insertEvents); resolves once it is committed. */
  write(tenantId: string, batch: EventBatch): Promise<{ stored: number }>;
  /** Finishes the write in progress and stops the writer thread, if there is one. */
  close(): Promise<void>;
}

export interface EventStoreOptions {
  /** Write on a thread of its own when the database is a SQLite file (see startEventStore). */
  threaded: boolean;
  logger: Logger;
  /** Called as each write transaction starts, with how many batches it writes (for metrics). */
  onTransaction?: (batches: number) => void;
  /** How long the writer thread may take to open the database. @default 30_000 */
  startTimeoutMs?: number;
}

/** What the main thread asks of the event writer thread. */
export type WriterRequest = { kind: 'write'; tenantId: string; batch: EventBatch } | { kind: 'close' };

export interface WriterResult {
  stored: number;
  /** The batch count of each transaction the thread started since its previous answer. */
  transactions: number[];
}

/** Fixed for the writer thread's life: its `workerData`. */
export interface WriterSettings {
  file: string;
  redactedUrl: string;
}

/**
 * Starts the sensor API's event storage: an EventWriter (group commit) on the given database,
 * or, for a SQLite file when `threaded`, an EventWriter on a thread of its own with its own
 * connection to the file.
 *
 * Why a thread on SQLite only: better-sqlite3 runs every statement synchronously, so on the
 * main thread each batch's inserts and commit stop gRPC for their whole duration; that was
 * most of the main thread's time under load. PostgreSQL and MySQL drivers wait on sockets,
 * which costs the main thread little. The two connections share the file the way two
 * processes do (WAL, BEGIN IMMEDIATE, busy timeout): the writer thread takes the write lock,
 * the main thread's readers never wait for it, and its rare writes (a key's last use, web UI
 * edits) wait at most for the writer's queued transactions.
 *
 * While the thread is being replaced after a crash, batches are written on the main thread.
 */
export async function startEventStore(db: Database, options: EventStoreOptions): Promise<EventStore> {
  const onMainThread = new EventWriter(db, { onTransaction: options.onTransaction });
  if (!options.threaded || db.file === undefined) {
    return {
      threaded: false,
      write: (tenantId, batch) => onMainThread.write(tenantId, batch),
      close: async () => undefined,
    };
  }
  const threads = await startEventWriterThread(db.file, db.redactedUrl, options);
  return new ThreadedEventStore(threads, onMainThread, options.onTransaction);
}

export type EventWriterThread = ThreadGroup<WriterRequest, WriterResult>;

/** The event writer thread (a group of one, replaced if it crashes), on the SQLite file `file`. */
export function startEventWriterThread(
  file: string,
  redactedUrl: string,
  options: Pick<EventStoreOptions, 'logger' | 'startTimeoutMs'>,
): Promise<EventWriterThread> {
  const settings: WriterSettings = { file, redactedUrl };
  return ThreadGroup.start<WriterRequest, WriterResult>({
    name: 'event writer thread',
    entry: new URL('./event-writer-thread.js', import.meta.url),
    workerData: settings,
    size: 1,
    startTimeoutMs: options.startTimeoutMs,
    logger: options.logger,
  });
}

/** Writes on the event writer thread, or with `onMainThread` while that thread is being replaced. */
export class ThreadedEventStore implements EventStore {
  readonly threaded = true;

  constructor(
    private readonly threads: EventWriterThread,
    private readonly onMainThread: EventWriter,
    private readonly onTransaction: ((batches: number) => void) | undefined,
  ) {}

  async write(tenantId: string, batch: EventBatch): Promise<{ stored: number }> {
    if (this.threads.closed) throw new Error('the event writer thread is stopped');
    if (batch.events.length === 0) return { stored: 0 };
    const thread = this.threads.leastBusy();
    if (!thread) return this.onMainThread.write(tenantId, batch);
    const { stored, transactions } = await thread.call({ kind: 'write', tenantId, batch });
    for (const batches of transactions) this.onTransaction?.(batches);
    return { stored };
  }

  async close(): Promise<void> {
    if (this.threads.closed) return;
    // The thread closes its connection after the transaction in progress, rather than being
    // cut off in the middle of one.
    await this.threads.leastBusy()?.call({ kind: 'close' }).catch(() => undefined);
    await this.threads.close();
  }
}
