/**
 * Everything the benchmark must undo (servers, clients, databases, temp folders), undone in
 * reverse order of creation, once, whether the run succeeded, failed or was interrupted.
 */
export class CleanupStack {
  private readonly steps: { name: string; run: () => Promise<void> | void }[] = [];
  private running: Promise<string[]> | undefined;

  /** Registers a step; the returned function runs it now (and removes it from the stack). */
  add(name: string, run: () => Promise<void> | void): () => Promise<void> {
    const step = { name, run };
    this.steps.push(step);
    return async () => {
      const index = this.steps.indexOf(step);
      if (index === -1) return;
      this.steps.splice(index, 1);
      await step.run();
    };
  }

  /** Runs every remaining step, newest first; resolves to the failures (never rejects). */
  runAll(): Promise<string[]> {
    this.running ??= (async () => {
      const failures: string[] = [];
      for (let step = this.steps.pop(); step; step = this.steps.pop()) {
        try {
          await step.run();
        } catch (error) {
          failures.push(`${step.name}: ${(error as Error).message}`);
        }
      }
      return failures;
    })();
    return this.running;
  }
}
