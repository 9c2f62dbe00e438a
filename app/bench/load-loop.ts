import { performance } from 'node:perf_hooks';

/** How long a closed-loop run lasts: a fixed number of operations, or a wall-clock budget. */
export type LoadPlan = { kind: 'operations'; operations: number } | { kind: 'duration'; durationMs: number };

export interface LoadResult {
  operations: number;
  elapsedMs: number;
  latenciesMs: number[];
  /** CPU time (user + system) of the process that generated the load, when it had one to itself. */
  loadProcessCpuMs?: number;
}

/**
 * A closed-loop load, timed each time the returned function is called: `workers` loops side
 * by side, each issuing one operation at a time (as a sensor sends its next batch once the
 * last one is acknowledged), until the plan is used up. Operations get consecutive sequence
 * numbers across workers, and each run continues where the last one ended, so no two runs
 * repeat a sequence (event ids are made from it). In duration mode the operations in flight at
 * the deadline finish and are counted, and so is their time.
 */
export function closedLoop(
  workers: number,
  plan: LoadPlan,
  operation: (sequence: number, worker: number) => Promise<void>,
): () => Promise<LoadResult> {
  let next = 0;
  return async () => {
    const first = next;
    const latenciesMs: number[] = [];
    const started = performance.now();
    const more = (): boolean =>
      plan.kind === 'operations' ? next - first < plan.operations : performance.now() - started < plan.durationMs;

    const loop = async (worker: number): Promise<void> => {
      while (more()) {
        const sequence = next++;
        const begun = performance.now();
        await operation(sequence, worker);
        latenciesMs.push(performance.now() - begun);
      }
    };
    await Promise.all(Array.from({ length: workers }, (_, worker) => loop(worker)));
    return { operations: latenciesMs.length, elapsedMs: performance.now() - started, latenciesMs };
  };
}

/** Sequential timing of `count` calls after `warmup` untimed ones. */
export async function timeSequential(warmup: number, count: number, call: () => Promise<void>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await call();
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const begun = performance.now();
    await call();
    samples.push(performance.now() - begun);
  }
  return samples;
}
