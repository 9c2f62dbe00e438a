import { writeEvents, type EventBatch } from './events.js';
import type { Database, Queryable } from './types.js';

export interface EventWriterOptions {
  /**
   * Transactions writing events at once; batches that arrive while all are busy wait and are
   * then written together. @default the database's connection pool size (1 for SQLite)
   */
  maxConcurrentWrites?: number;
  /** Most events one shared transaction takes (it always takes at least one batch). @default 5000 */
  maxEventsPerTransaction?: number;
  /** Called as each transaction starts, with how many batches it writes (for metrics). */
  onTransaction?: (batches: number) => void;
}

interface QueuedBatch {
  tenantId: string;
  batch: EventBatch;
  resolve(result: { stored: number }): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; stored: number } | { ok: false; error: unknown };

const DEFAULT_MAX_EVENTS_PER_TRANSACTION = 5000;

/**
 * Stores event batches with group commit: a batch is written at once when a transaction is
 * free, and batches that arrive while every transaction is busy are written together, in the
 * next one, each under its own savepoint. On SQLite, whose single writer serializes every
 * batch anyway, this turns one commit per batch into one per group: the commit (its WAL
 * writes and checkpoints) was the largest single cost of ingesting a batch.
 *
 * Each batch still succeeds or fails on its own: a batch whose statements fail is rolled back
 * to its savepoint and rejected, the others in its transaction are kept. When the transaction
 * itself fails (connection lost, commit refused), every batch in it is rejected and nothing
 * is stored, which the sensors' re-sends make good.
 */
export class EventWriter {
  private readonly queue: QueuedBatch[] = [];
  private readonly maxConcurrentWrites: number;
  private readonly maxEventsPerTransaction: number;
  private writing = 0;
  private scheduled = false;

  constructor(
    private readonly db: Database,
    private readonly options: EventWriterOptions = {},
  ) {
    this.maxConcurrentWrites = Math.max(1, options.maxConcurrentWrites ?? db.poolStats().max);
    this.maxEventsPerTransaction = options.maxEventsPerTransaction ?? DEFAULT_MAX_EVENTS_PER_TRANSACTION;
  }

  /** Stores the batch (see insertEvents for what is stored); resolves once it is committed. */
  write(tenantId: string, batch: EventBatch): Promise<{ stored: number }> {
    if (batch.events.length === 0) return Promise.resolve({ stored: 0 });
    return new Promise((resolve, reject) => {
      this.queue.push({ tenantId, batch, resolve, reject });
      this.scheduleWrites();
    });
  }

  /**
   * Starts writing after the I/O callbacks already due have run, so that batches which became
   * ready together (several calls arriving, several workers replying) share a transaction.
   * better-sqlite3 blocks the event loop while it writes, so on SQLite a batch never arrives
   * *during* a write: without this turn every group would be a single batch.
   */
  private scheduleWrites(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.startWrites();
    });
  }

  private startWrites(): void {
    while (this.writing < this.maxConcurrentWrites && this.queue.length > 0) {
      const group = this.takeGroup();
      this.writing++;
      void this.writeGroup(group).finally(() => {
        this.writing--;
        this.startWrites();
      });
    }
  }

  private takeGroup(): QueuedBatch[] {
    const group = [this.queue.shift() as QueuedBatch];
    let events = group[0]?.batch.events.length ?? 0;
    while (this.queue.length > 0) {
      const next = this.queue[0] as QueuedBatch;
      if (events + next.batch.events.length > this.maxEventsPerTransaction) break;
      events += next.batch.events.length;
      group.push(this.queue.shift() as QueuedBatch);
    }
    return group;
  }

  private async writeGroup(group: QueuedBatch[]): Promise<void> {
    this.options.onTransaction?.(group.length);
    let outcomes: Outcome[];
    try {
      outcomes = await this.db.transaction((tx) =>
        group.length === 1 ? writeAlone(tx, group[0] as QueuedBatch) : writeEach(tx, group),
      );
    } catch (error) {
      for (const queued of group) queued.reject(error);
      return;
    }
    outcomes.forEach((outcome, index) => {
      const queued = group[index] as QueuedBatch;
      if (outcome.ok) queued.resolve({ stored: outcome.stored });
      else queued.reject(outcome.error);
    });
  }
}

/** One batch: its transaction is its own, so a failure simply rolls it back. */
async function writeAlone(tx: Queryable, queued: QueuedBatch): Promise<Outcome[]> {
  const { stored } = await writeEvents(tx, queued.tenantId, queued.batch);
  return [{ ok: true, stored }];
}

/** Several batches in one transaction, each under a savepoint so that it fails alone. */
async function writeEach(tx: Queryable, group: readonly QueuedBatch[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const [index, queued] of group.entries()) {
    const savepoint = `event_batch_${index}`;
    await tx.execute(`SAVEPOINT ${savepoint}`);
    try {
      const { stored } = await writeEvents(tx, queued.tenantId, queued.batch);
      await tx.execute(`RELEASE SAVEPOINT ${savepoint}`);
      outcomes.push({ ok: true, stored });
    } catch (error) {
      // If even this fails, the transaction is beyond saving: the whole group fails.
      await tx.execute(`ROLLBACK TO SAVEPOINT ${savepoint}`);
      outcomes.push({ ok: false, error });
    }
  }
  return outcomes;
}
