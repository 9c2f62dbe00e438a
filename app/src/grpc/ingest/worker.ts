/**
 * An ingestion worker thread: prepares ReportEvents batches (prepare-batch.ts) for the main
 * thread, which keeps gRPC and the database. Started by pool.ts.
 */
import { workerData } from 'node:worker_threads';
import type { Rule } from '../../rules/model.js';
import { serveCalls } from '../../threads/serve-calls.js';
import type { PrepareRequest, WorkerSettings } from './messages.js';
import { prepareReportEventsBatch, type PreparedBatch } from './prepare-batch.js';

const { maxBatchSize } = workerData as WorkerSettings;
const rulesByTenant = new Map<string, { generation: number; rules: readonly Rule[] }>();

function rulesFor(request: PrepareRequest): readonly Rule[] {
  if (request.rules) {
    rulesByTenant.set(request.tenantId, { generation: request.rulesGeneration, rules: request.rules });
    return request.rules;
  }
  const held = rulesByTenant.get(request.tenantId);
  if (!held || held.generation !== request.rulesGeneration) {
    throw new Error(`rules generation ${request.rulesGeneration} of tenant ${request.tenantId} was never sent to this worker`);
  }
  return held.rules;
}

serveCalls<PrepareRequest, PreparedBatch>('grpc/ingest/worker', (request) =>
  prepareReportEventsBatch(request.bytes, rulesFor(request), maxBatchSize));
