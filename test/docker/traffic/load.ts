import { grpcHealthCheck } from '../../../components/health-gate/index.js';

/** One request of the load, timed on the performance clock. */
export interface Sample {
  kind: 'http' | 'grpc';
  startedAt: number;
  endedAt: number;
  ok: boolean;
  /** The release /readyz reported (HTTP only). */
  release?: string | null;
  detail: string;
}

export interface Load {
  /** Stops the workers and returns every request they made. */
  stop(): Promise<Sample[]>;
}

/**
 * Many concurrent fast requests in loops: HTTP workers fetch /readyz URLs through Caddy
 * (keep-alive connections, as browsers and sensors hold them), gRPC workers call Health/Check on
 * channels that stay open the whole time.
 */
export function startLoad(options: { httpUrls: string[]; httpWorkers: number; grpcAddress: string; grpcWorkers: number }): Load {
  const samples: Sample[] = [];
  let running = true;
  const httpWorker = async (url: string) => {
    while (running) {
      const startedAt = performance.now();
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        const body = await response.text();
        let release: string | null = null;
        try {
          release = (JSON.parse(body) as { release?: string | null }).release ?? null;
        } catch {
          release = null;
        }
        samples.push({ kind: 'http', startedAt, endedAt: performance.now(), ok: response.status === 200, release, detail: `HTTP ${response.status} ${body.slice(0, 200)}` });
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause;
        samples.push({ kind: 'http', startedAt, endedAt: performance.now(), ok: false, detail: `${(error as Error).message} ${cause?.code ?? ''}` });
      }
    }
  };
  const grpcWorker = async () => {
    const check = grpcHealthCheck('load', options.grpcAddress);
    try {
      while (running) {
        const startedAt = performance.now();
        const outcome = await check.run(10_000);
        samples.push({ kind: 'grpc', startedAt, endedAt: performance.now(), ...outcome });
      }
    } finally {
      check.close();
    }
  };
  const workers = [
    ...Array.from({ length: options.httpWorkers }, (_, i) => httpWorker(options.httpUrls[i % options.httpUrls.length]!)),
    ...Array.from({ length: options.grpcWorkers }, () => grpcWorker()),
  ];
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      return samples;
    },
  };
}
