import type { Rule } from '../../rules/model.js';

/**
 * What the main thread sends an ingestion worker with each batch. Rules travel only when the
 * worker does not hold the tenant's current set yet: `rulesGeneration` names the set, and a
 * worker keeps the last one it was sent per tenant (so its evaluator reuses compiled rules).
 * The worker answers with the PreparedBatch.
 */
export interface PrepareRequest {
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
