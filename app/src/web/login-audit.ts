import type { Logger } from '../log/logger.js';
import type { ThrottleScope } from './login-throttle.js';

/** Throttled attempts from one address are logged at most once per this interval, with a count. */
export const THROTTLED_LOG_INTERVAL_MS = 10_000;
const MAX_ADDRESSES = 10_000;

interface AttemptFacts {
  username: string;
  address: string;
}

/**
 * The audit trail of refused logins (never the password). Each failed check is one line: the
 * throttle bounds how many there can be. Throttled attempts cost an attacker nothing, so they
 * are summarised per address: the first is logged, the next ones within the interval are
 * counted into the following line (`alsoRefused`), and the disk cannot be filled with them.
 */
export class LoginAudit {
  private readonly throttledByAddress = new Map<string, { loggedAt: number; unlogged: number }>();

  constructor(private readonly logger: Logger, private readonly clock: () => number = () => performance.now()) {}

  failed(facts: AttemptFacts): void {
    this.logger.warn({ event: 'login_failed', ...facts }, 'web-ui: login failed: wrong username or password');
  }

  throttled(facts: AttemptFacts & { scope: ThrottleScope | undefined; retryAfterSeconds: number }): void {
    const now = this.clock();
    const entry = this.throttledByAddress.get(facts.address);
    if (entry && now - entry.loggedAt < THROTTLED_LOG_INTERVAL_MS) {
      entry.unlogged += 1;
      return;
    }
    this.throttledByAddress.delete(facts.address);
    this.throttledByAddress.set(facts.address, { loggedAt: now, unlogged: 0 });
    if (this.throttledByAddress.size > MAX_ADDRESSES) {
      const oldest = this.throttledByAddress.keys().next().value;
      if (oldest !== undefined) this.throttledByAddress.delete(oldest);
    }
    this.logger.warn(
      { event: 'login_throttled', ...facts, alsoRefused: entry?.unlogged ?? 0 },
      'web-ui: login refused unchecked: too many failed logins (429)',
    );
  }
}
