/**
 * An ingestion worker thread: prepares ReportEvents batches (prepare-batch.ts) for the main
 * thread, which keeps gRPC and the database. Started by pool.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Rule } from '../../rules/model.js';
import type { PrepareRequest, WorkerReply, WorkerSettings } from './messages.js';
import { prepareReportEventsBatch } from './prepare-batch.js';

const port = parentPort;
if (!port) throw new Error('grpc/ingest/worker is a worker thread entry point; pool.ts starts it');

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

port.on('message', (request: PrepareRequest) => {
  let reply: WorkerReply;
  try {
    const batch = prepareReportEventsBatch(request.bytes, rulesFor(request), maxBatchSize);
    reply = { kind: 'done', taskId: request.taskId, batch };
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    reply = { kind: 'failed', taskId: request.taskId, message: failure.message, stack: failure.stack };
  }
  port.postMessage(reply);
});

port.postMessage({ kind: 'ready' } satisfies WorkerReply);
