/**
 * A first-come, first-served lock for async work: `run` waits until every earlier caller's
 * function has settled, then runs its own. Used to keep async transactions on a single
 * connection from interleaving.
 */
export class AsyncMutex {
  private tail: Promise<void> = Promise.resolve();
  private holders = 0;

  get locked(): boolean {
    return this.holders > 0;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.tail;
    let releaseNext!: () => void;
    this.tail = new Promise<void>((resolve) => {
      releaseNext = resolve;
    });
    this.holders += 1;
    try {
      await previous;
      return await fn();
    } finally {
      this.holders -= 1;
      releaseNext();
    }
  }
}
