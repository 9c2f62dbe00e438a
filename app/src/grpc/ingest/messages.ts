import type { Rule } from '../../rules/model.js';
import type { PreparedBatch } from './prepare-batch.js';

/**
 * What the main thread and an ingestion worker say to each other. Rules travel only when the
 * worker does not hold the tenant's current set yet: `rulesGeneration` names the set, and a
 * worker keeps the last one it was sent per tenant (so its evaluator reuses compiled rules).
 */
export interface PrepareRequest {
  taskId: number;
  bytes: Uint8Array;
  tenantId: string;
  rulesGeneration: number;
  /** Present when the worker has not been sent this generation before. */
  rules?: readonly Rule[];
}

/** Fixed for a worker's life: its `workerData`. */
export interface WorkerSettings {
  maxBatchSize: number;
}

export type WorkerReply =
  | { kind: 'ready' }
  | { kind: 'done'; taskId: number; batch: PreparedBatch }
  | { kind: 'failed'; taskId: number; message: string; stack: string | undefined };
