/** A worker thread for the threads module's tests: echoes, fails, hangs or dies on request. */
import { setTimeout as sleep } from 'node:timers/promises';
import { workerData } from 'node:worker_threads';
import { serveCalls } from '../../../src/threads/serve-calls.js';

export type EchoRequest =
  | { kind: 'echo'; value: unknown; delayMs?: number }
  | { kind: 'fail'; message: string; code?: string }
  | { kind: 'crash' }
  | { kind: 'exit'; code: number };

export interface EchoSettings {
  failToLoad?: boolean;
}

if ((workerData as EchoSettings).failToLoad) throw new Error('this thread was told not to load');

serveCalls<EchoRequest, unknown>('test/support/threads/echo-thread', async (request) => {
  switch (request.kind) {
    case 'echo':
      if (request.delayMs) await sleep(request.delayMs);
      return request.value;
    case 'fail':
      throw Object.assign(new Error(request.message), request.code === undefined ? {} : { code: request.code });
    case 'crash':
      setImmediate(() => {
        throw new Error('an uncaught error');
      });
      return new Promise(() => undefined);
    case 'exit':
      process.exit(request.code);
  }
});
