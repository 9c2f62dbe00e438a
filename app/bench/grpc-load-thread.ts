import { Worker } from 'node:worker_threads';
import type { GrpcLoadSpec, LoadDriver } from './grpc-load.js';
import type { LoadStep, WorkerReply } from './grpc-load-worker.js';
import type { LoadResult } from './load-loop.js';

/**
 * The gRPC load on a worker thread: the sensors' protobuf encoding and HTTP/2 client work then
 * runs beside the server (as separate sensor processes would) instead of on the server's event
 * loop. The worker loads TypeScript the way this process does, through tsx.
 */
export function createGrpcLoadThread(spec: GrpcLoadSpec): LoadDriver {
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./grpc-load-worker.ts', import.meta.url).href;
  const worker = new Worker(
    `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`,
    { eval: true, workerData: spec },
  );
  let failure: Error | undefined;
  const waiting = new Map<LoadStep, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  const failAll = (error: Error): void => {
    failure ??= error;
    for (const pending of waiting.values()) pending.reject(error);
    waiting.clear();
  };
  worker.on('message', (reply: WorkerReply) => {
    const pending = waiting.get(reply.step);
    waiting.delete(reply.step);
    if (reply.ok) pending?.resolve(reply.result);
    else pending?.reject(new Error(`the gRPC load thread failed during ${reply.step}: ${reply.error}`));
  });
  worker.on('error', (error) => failAll(error));
  worker.on('exit', (code) => failAll(new Error(`the gRPC load thread exited (code ${code})`)));

  const ask = (step: LoadStep): Promise<unknown> => {
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => {
      waiting.set(step, { resolve, reject });
      worker.postMessage(step);
    });
  };
  let closed: Promise<void> | undefined;
  return {
    warmup: async () => {
      await ask('warmup');
    },
    run: async () => (await ask('run')) as LoadResult,
    close: () => {
      closed ??= (async () => {
        if (!failure) await ask('close').catch(() => undefined);
        await worker.terminate();
      })();
      return closed;
    },
  };
}
