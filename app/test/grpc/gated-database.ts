import type { Database, PoolStats, Queryable, Row, SqlValue } from '../../src/db/types.js';

/**
 * A Database that, once armed, holds the next statement whose SQL contains `pattern` until
 * released: a way to keep a call in flight for as long as a test needs.
 */
export class GatedDatabase implements Database {
  private gate: { pattern: string; reached: () => void; opened: Promise<void> } | undefined;

  constructor(private readonly inner: Database) {}

  get dialect() {
    return this.inner.dialect;
  }
  get redactedUrl() {
    return this.inner.redactedUrl;
  }

  /** Holds the next matching statement; `reached` resolves when one is waiting. */
  arm(pattern: string): { reached: Promise<void>; release: () => void } {
    let release!: () => void;
    let reached!: () => void;
    const opened = new Promise<void>((resolve) => (release = resolve));
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
    this.gate = { pattern, reached, opened };
    return { reached: reachedPromise, release };
  }

  private async wait(sql: string): Promise<void> {
    const gate = this.gate;
    if (!gate || !sql.includes(gate.pattern)) return;
    this.gate = undefined;
    gate.reached();
    await gate.opened;
  }

  async query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    await this.wait(sql);
    return this.inner.query<T>(sql, params);
  }
  async execute(sql: string, params?: readonly SqlValue[]): Promise<number> {
    await this.wait(sql);
    return this.inner.execute(sql, params);
  }
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.inner.transaction(fn);
  }
  ping(timeoutMs: number): Promise<void> {
    return this.inner.ping(timeoutMs);
  }
  poolStats(): PoolStats {
    return this.inner.poolStats();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
