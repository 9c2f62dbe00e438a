/**
 * Child-process side of grpc-load-process.ts: the gRPC sensors in their own OS process,
 * stepping through prepare, warm-up, timed runs and close when the benchmark asks. Exits once
 * closed, or as soon as the benchmark process goes away.
 */
import { createGrpcLoad, type GrpcLoadSpec, type LoadDriver } from './grpc-load.js';
import type { LoadResult } from './load-loop.js';

export type LoadRequest = { step: 'prepare'; spec: GrpcLoadSpec } | { step: 'warmup' | 'run' | 'close' };
export type LoadStep = LoadRequest['step'];
export type LoadReply = { step: LoadStep; ok: true; result?: unknown } | { step: LoadStep; ok: false; error: string };

function reply(message: LoadReply, sent?: () => void): void {
  process.send?.(message, undefined, undefined, () => sent?.());
}

if (!process.send) throw new Error('grpc-load-child.ts runs only as a child process with an IPC channel');
process.once('disconnect', () => process.exit(0));

let load: LoadDriver | undefined;
process.on('message', (request: LoadRequest) => {
  const { step } = request;
  const work = async (): Promise<unknown> => {
    if (request.step === 'prepare') {
      load = createGrpcLoad(request.spec);
      return undefined;
    }
    if (!load) throw new Error(`${step} before prepare`);
    if (request.step === 'run') {
      const before = process.cpuUsage();
      const result = await load.run();
      const used = process.cpuUsage(before);
      return { ...result, loadProcessCpuMs: (used.user + used.system) / 1000 } satisfies LoadResult;
    }
    return request.step === 'warmup' ? load.warmup() : load.close();
  };
  work().then(
    (result) => reply({ step, ok: true, result }, step === 'close' ? () => process.disconnect() : undefined),
    (error: unknown) => reply({ step, ok: false, error: String((error as Error).stack ?? error) }),
  );
});
