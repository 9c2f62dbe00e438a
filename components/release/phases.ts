/** Records how long each phase of a release takes, in order. */
export class PhaseClock {
  readonly phases: Record<string, number> = {};
  /** The first phase whose work threw (phases may run at the same time). */
  failedPhase: string | undefined;
  private readonly started = performance.now();

  /** Milliseconds since the clock was made. */
  total(): number {
    return Math.round(performance.now() - this.started);
  }

  async time<T>(phase: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } catch (error) {
      this.failedPhase ??= phase;
      throw error;
    } finally {
      this.phases[phase] = Math.round(performance.now() - started);
    }
  }
}

/**
 * Runs steps at the same time and waits for every one of them, then throws the first failure:
 * a failed step never leaves another running after the release has given up (and let go of
 * the lock).
 */
export async function allSettledOrThrow(steps: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(steps);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}
