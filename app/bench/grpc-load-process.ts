import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadReply, LoadRequest, LoadStep } from './grpc-load-child.js';
import type { GrpcLoadSpec, LoadDriver } from './grpc-load.js';
import type { LoadResult } from './load-loop.js';

const EXIT_GRACE_MS = 5000;

/**
 * The gRPC load in a separate OS process (grpc-load-child.ts), as real sensors are: their
 * HTTP/2 client work then never runs on the server's event loop. The child loads TypeScript
 * the way this process does, through tsx. The API key travels over the IPC channel, not argv.
 */
export function createGrpcLoadProcess(spec: GrpcLoadSpec): LoadDriver {
  const child = fork(fileURLToPath(new URL('./grpc-load-child.ts', import.meta.url)), [], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let failure: Error | undefined;
  const waiting = new Map<LoadStep, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  const failAll = (error: Error): void => {
    failure ??= error;
    for (const pending of waiting.values()) pending.reject(error);
    waiting.clear();
  };
  child.on('message', (reply: LoadReply) => {
    const pending = waiting.get(reply.step);
    waiting.delete(reply.step);
    if (reply.ok) pending?.resolve(reply.result);
    else pending?.reject(new Error(`the gRPC load process failed during ${reply.step}: ${reply.error}`));
  });
  child.on('error', (error) => failAll(error));
  child.on('exit', (code, signal) => failAll(new Error(`the gRPC load process exited (${signal ?? `code ${code}`})`)));

  const ask = (request: LoadRequest): Promise<unknown> => {
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => {
      waiting.set(request.step, { resolve, reject });
      child.send(request);
    });
  };
  let closed: Promise<void> | undefined;
  return {
    warmup: async () => {
      await ask({ step: 'prepare', spec });
      await ask({ step: 'warmup' });
    },
    run: async () => (await ask({ step: 'run' })) as LoadResult,
    close: () => {
      closed ??= (async () => {
        if (!failure) await ask({ step: 'close' }).catch(() => undefined);
        const timer = setTimeout(() => child.kill(), failure ? 0 : EXIT_GRACE_MS);
        if (child.exitCode === null && child.signalCode === null) await exited;
        clearTimeout(timer);
      })();
      return closed;
    },
  };
}
