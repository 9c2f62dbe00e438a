import { parentPort } from 'node:worker_threads';
import type { CallMessage, ThreadError, ThreadMessage } from './worker-thread.js';

function asThreadError(error: unknown): ThreadError {
  const failure = error instanceof Error ? error : new Error(String(error));
  const code = (failure as { code?: unknown }).code;
  return { message: failure.message, stack: failure.stack, code: typeof code === 'string' ? code : undefined };
}

/**
 * The thread side of WorkerThread: answers each call with what `handle` returns or throws,
 * then tells the main thread it is ready. Calls are handled as they arrive; an async handler
 * may have several in progress at once.
 */
export function serveCalls<Request, Result>(entryName: string, handle: (request: Request) => Result | Promise<Result>): void {
  const port = parentPort;
  if (!port) throw new Error(`${entryName} is a worker thread entry point, started through WorkerThread`);
  port.on('message', ({ callId, request }: CallMessage<Request>) => {
    const reply = (message: ThreadMessage<Result>) => port.postMessage(message);
    try {
      const result = handle(request);
      if (result instanceof Promise) {
        result.then(
          (value) => reply({ kind: 'done', callId, result: value }),
          (error: unknown) => reply({ kind: 'failed', callId, error: asThreadError(error) }),
        );
      } else {
        reply({ kind: 'done', callId, result });
      }
    } catch (error) {
      reply({ kind: 'failed', callId, error: asThreadError(error) });
    }
  });
  port.postMessage({ kind: 'ready' } satisfies ThreadMessage<Result>);
}
