/**
 * The engine bench's load in a worker thread: at 1,000+ requests/s the load's own work stalled
 * the bench's event loop for seconds, which then measured its own stalls as the engine's time
 * (an `up` whose summary came at 46 s returned at 111 s). In a worker the load keeps its own
 * event loop; the bench's timers and the Automation API's events stay on time.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { startLoad, type LoadReport, type LoadRequests, type LoadTarget } from '../test/support/load.js';

interface LoadJob {
  target: LoadTarget;
  options: { ratePerSecond: number; maxSeconds: number; requests: LoadRequests; connections: number; maxInFlight?: number };
}

export interface WorkerLoad {
  stop(): Promise<LoadReport>;
}

/** startLoad in a worker thread; stop() ends it and resolves with its report. */
export function startLoadInWorker(target: LoadTarget, options: LoadJob['options']): WorkerLoad {
  const worker = new Worker(new URL('./load-worker-entry.mjs', import.meta.url), { workerData: { target, options } satisfies LoadJob });
  const report = new Promise<LoadReport>((resolve, reject) => {
    worker.once('message', (message: LoadReport) => resolve(message));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the load worker exited (${code}) without a report`)));
  });
  report.catch(() => undefined);
  let stopping: Promise<LoadReport> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        worker.postMessage('stop');
        try {
          return await report;
        } finally {
          await worker.terminate();
        }
      })();
      return stopping;
    },
  };
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const job = workerData as LoadJob;
  const load = startLoad(job.target, job.options);
  port.once('message', () => {
    void load.stop().then((report) => port.postMessage(report));
  });
}
