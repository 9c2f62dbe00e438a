/**
 * Worker-thread side of grpc-load-thread.ts: runs a gRPC load (the sensors) on its own thread,
 * stepping through warm-up, run and close when the main thread asks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createGrpcLoad, type GrpcLoadSpec } from './grpc-load.js';

export type LoadStep = 'warmup' | 'run' | 'close';
export type WorkerReply = { step: LoadStep; ok: true; result?: unknown } | { step: LoadStep; ok: false; error: string };

const port = parentPort;
if (!port) throw new Error('grpc-load-worker.ts runs only as a worker thread');
const load = createGrpcLoad(workerData as GrpcLoadSpec);

port.on('message', (step: LoadStep) => {
  const work = step === 'warmup' ? load.warmup() : step === 'run' ? load.run() : load.close();
  work.then(
    (result) => port.postMessage({ step, ok: true, result } satisfies WorkerReply),
    (error: unknown) => port.postMessage({ step, ok: false, error: String((error as Error).stack ?? error) } satisfies WorkerReply),
  );
});
