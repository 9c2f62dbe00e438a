/**
 * One-time messages shown on the page after a POST-redirect-GET. They live in this process's
 * memory, keyed by the session's id hash, so nothing (notably a new API key) travels in a URL
 * or a cookie. A message not picked up within FLASH_TTL_MS is dropped.
 */
export type Flash =
  | { kind: 'success' | 'error'; message: string }
  | { kind: 'new-api-key'; message: string; name: string; key: string };

export const FLASH_TTL_MS = 10 * 60_000;
const MAX_OWNERS = 10_000;
const MAX_PER_OWNER = 8;

export class FlashStore {
  private readonly entries = new Map<string, { flashes: Flash[]; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  push(owner: string, flash: Flash): void {
    this.dropExpired();
    const entry = this.entries.get(owner);
    if (entry) {
      entry.flashes = [...entry.flashes, flash].slice(-MAX_PER_OWNER);
      entry.expiresAt = this.now() + FLASH_TTL_MS;
      return;
    }
    if (this.entries.size >= MAX_OWNERS) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(owner, { flashes: [flash], expiresAt: this.now() + FLASH_TTL_MS });
  }

  /** The owner's pending messages, removed as they are returned. */
  take(owner: string): Flash[] {
    const entry = this.entries.get(owner);
    this.entries.delete(owner);
    if (!entry || entry.expiresAt <= this.now()) return [];
    return entry.flashes;
  }

  discard(owner: string): void {
    this.entries.delete(owner);
  }

  private dropExpired(): void {
    const now = this.now();
    for (const [owner, entry] of this.entries) {
      if (entry.expiresAt <= now) this.entries.delete(owner);
    }
  }
}
