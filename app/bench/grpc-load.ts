import { connectSensorClient, type SensorClient } from '../test/support/sensor-client.js';
import { buildEventPool, wireBatch } from './event-batches.js';
import { runClosedLoop, type LoadPlan, type LoadResult } from './load-loop.js';

/** Everything a gRPC load needs, as plain data (it crosses into a worker thread). */
export interface GrpcLoadSpec {
  port: number;
  apiKey: string;
  streams: number;
  batchSize: number;
  plan: LoadPlan;
  warmupBatchesPerStream: number;
  payloadPoolSize: number;
  payloadSeed: number;
}

/** A load with an untimed warm-up and a timed run, run in that order. */
export interface LoadDriver {
  warmup(): Promise<void>;
  run(): Promise<LoadResult>;
  close(): Promise<void>;
}

const CALL_DEADLINE_MS = 60_000;

/**
 * `streams` sensors, each on its own connection, each sending its next ReportEvents batch when
 * the last one was acknowledged. Every batch must be accepted whole.
 */
export function createGrpcLoad(spec: GrpcLoadSpec): LoadDriver {
  const pool = buildEventPool(spec.payloadPoolSize, spec.payloadSeed);
  const clients: SensorClient[] = Array.from({ length: spec.streams }, () => connectSensorClient(spec.port));
  const send = async (worker: number, label: string, sequence: number): Promise<void> => {
    const client = clients[worker] as SensorClient;
    const request = wireBatch(pool, label, sequence, spec.batchSize, `bench-sensor-${worker}`);
    const { response } = await client.reportEvents(request, { apiKey: spec.apiKey, deadlineMs: CALL_DEADLINE_MS });
    if (response.acceptedCount !== spec.batchSize) {
      throw new Error(`a batch of ${spec.batchSize} came back with ${String(response.acceptedCount)} accepted`);
    }
  };
  return {
    warmup: async () => {
      await Promise.all(
        clients.map(async (_, worker) => {
          for (let batch = 0; batch < spec.warmupBatchesPerStream; batch++) {
            await send(worker, 'warmup', worker * spec.warmupBatchesPerStream + batch);
          }
        }),
      );
    },
    run: () => runClosedLoop(spec.streams, spec.plan, (sequence, worker) => send(worker, 'timed', sequence)),
    close: async () => clients.forEach((client) => client.close()),
  };
}
