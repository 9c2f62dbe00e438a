import { isIPv6 } from 'node:net';
import type { LoginThrottlePolicy } from '../config/app-config.js';

export type { LoginThrottlePolicy };

/** The first wait once a counter passes its free failures; each further failure doubles it. */
export const LOGIN_BACKOFF_BASE_MS = 1000;
/** Records kept per counter; beyond this the least recently failed ones are forgotten. */
const MAX_RECORDS = 50_000;
/**
 * Password checks from one address run one at a time, each after the previous one's failure
 * was counted: otherwise a burst of concurrent guesses would all pass the throttle before the
 * first failure is recorded. Legitimate logins behind one address just wait their turn (one
 * argon2 verification each); beyond this many waiting, an attempt is refused with 429.
 */
export const MAX_CHECKS_QUEUED_PER_ADDRESS = 32;
/** What a client refused because too many checks from its address are queued is told to wait. */
const QUEUE_FULL_RETRY_MS = 1000;
/** How long an address that logged in to an account stays exempt from that account's own counter. */
const KNOWN_ADDRESS_MS = 30 * 24 * 60 * 60_000;

interface FailureRecord {
  failures: number;
  lastFailureAt: number;
  /** No attempt is checked before this time. */
  blockedUntil: number;
}

/**
 * Failed logins under one kind of key, with exponential backoff: the first `freeFailures` cost
 * nothing, then each failure makes the next attempt wait twice as long as the previous one
 * did, up to `backoffMaxMs`. A record is forgotten `backoffMaxMs` after its last failure, so
 * every wait ends. Attempts refused while blocked are not failures and do not extend it.
 */
class FailureCounter {
  private readonly records = new Map<string, FailureRecord>();

  constructor(private readonly freeFailures: number, private readonly backoffMaxMs: number) {}

  waitMs(key: string, now: number): number {
    const record = this.live(key, now);
    return record ? Math.max(0, record.blockedUntil - now) : 0;
  }

  /** Returns the number of failures the record now holds. */
  recordFailure(key: string, now: number): number {
    const record = this.live(key, now) ?? { failures: 0, lastFailureAt: now, blockedUntil: 0 };
    record.failures += 1;
    record.lastFailureAt = now;
    const excess = record.failures - this.freeFailures;
    if (excess >= 0) {
      record.blockedUntil = now + Math.min(this.backoffMaxMs, LOGIN_BACKOFF_BASE_MS * 2 ** Math.min(excess, 30));
    }
    // Re-inserted so the Map's order is least recently failed first, which is what eviction drops.
    this.records.delete(key);
    this.records.set(key, record);
    if (this.records.size > MAX_RECORDS) {
      const oldest = this.records.keys().next().value;
      if (oldest !== undefined) this.records.delete(oldest);
    }
    return record.failures;
  }

  clear(key: string): void {
    this.records.delete(key);
  }

  private live(key: string, now: number): FailureRecord | undefined {
    const record = this.records.get(key);
    if (record && now - record.lastFailureAt > this.backoffMaxMs) {
      this.records.delete(key);
      return undefined;
    }
    return record;
  }
}

/** Which limit refused an attempt, for the audit log. */
export type ThrottleScope = 'address+account' | 'address' | 'account';

export interface ThrottleVerdict {
  /** 0 when the attempt may be checked; otherwise how long until it may. */
  waitMs: number;
  scope?: ThrottleScope;
}

/**
 * An attempt let through holds its address's turn: `done` must be called once its password
 * check has finished and its failure (if any) is recorded.
 */
export type ThrottleAdmission = { waitMs: 0; done: () => void } | { waitMs: number; scope: ThrottleScope | undefined };

/**
 * The per-process throttle for POST /login, with three counters of failed logins:
 * - per client address and username: one address guessing one account's password;
 * - per client address: one address trying many usernames;
 * - per username, over all addresses: a distributed guess at one account. Each address adds
 *   at most its free failures for that account (while its own record lives), so reaching this
 *   threshold takes many addresses, and an attacker at one address cannot lock the real owner
 *   out from another. An address that has logged in to the account before is exempt from it.
 * Throttled attempts are answered without checking the password, so they teach the attacker
 * nothing. State lives in memory: a restart forgets it, and each process counts on its own.
 */
export class LoginThrottle {
  private readonly perAddressAccount: FailureCounter;
  private readonly perAddress: FailureCounter;
  private readonly perAccount: FailureCounter;
  private readonly knownAddresses = new Map<string, number>();
  private readonly turns = new Map<string, { tail: Promise<void>; pending: number }>();

  constructor(private readonly policy: LoginThrottlePolicy, private readonly clock: () => number = () => performance.now()) {
    this.perAddressAccount = new FailureCounter(policy.failuresPerAddressAccount, policy.backoffMaxMs);
    this.perAddress = new FailureCounter(policy.failuresPerAddress, policy.backoffMaxMs);
    this.perAccount = new FailureCounter(policy.failuresPerAccount, policy.backoffMaxMs);
  }

  check(address: string, username: string): ThrottleVerdict {
    const now = this.clock();
    const account = accountKey(username);
    const candidates: [ThrottleScope, number][] = [
      ['address+account', this.perAddressAccount.waitMs(pairKey(address, account), now)],
      ['address', this.perAddress.waitMs(address, now)],
      ['account', this.isKnown(address, account, now) ? 0 : this.perAccount.waitMs(account, now)],
    ];
    const [scope, waitMs] = candidates.reduce((longest, next) => (next[1] > longest[1] ? next : longest));
    return waitMs > 0 ? { waitMs, scope } : { waitMs: 0 };
  }

  /**
   * Waits for this address's turn (see MAX_CHECKS_QUEUED_PER_ADDRESS), then check(): refused
   * attempts give their turn back at once, admitted ones when they call `done`.
   */
  async admit(address: string, username: string): Promise<ThrottleAdmission> {
    let queue = this.turns.get(address);
    if (queue && queue.pending >= MAX_CHECKS_QUEUED_PER_ADDRESS) return { waitMs: QUEUE_FULL_RETRY_MS, scope: 'address' };
    if (!queue) {
      queue = { tail: Promise.resolve(), pending: 0 };
      this.turns.set(address, queue);
    }
    const turns = queue;
    turns.pending += 1;
    const previous = turns.tail;
    let passOn = () => {};
    turns.tail = new Promise<void>((resolve) => { passOn = resolve; });
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      turns.pending -= 1;
      if (turns.pending === 0 && this.turns.get(address) === turns) this.turns.delete(address);
      passOn();
    };
    await previous;
    const verdict = this.check(address, username);
    if (verdict.waitMs > 0) {
      done();
      return { waitMs: verdict.waitMs, scope: verdict.scope };
    }
    return { waitMs: 0, done };
  }

  recordFailure(address: string, username: string): void {
    const now = this.clock();
    const account = accountKey(username);
    const pairFailures = this.perAddressAccount.recordFailure(pairKey(address, account), now);
    this.perAddress.recordFailure(address, now);
    if (pairFailures <= this.policy.failuresPerAddressAccount) this.perAccount.recordFailure(account, now);
  }

  /**
   * The address's record for this account is cleared and the address becomes known to it.
   * The per-address and per-account records stay: logging in to one's own account must not
   * reset the count of guesses at others.
   */
  recordSuccess(address: string, username: string): void {
    const now = this.clock();
    const account = accountKey(username);
    const key = pairKey(address, account);
    this.perAddressAccount.clear(key);
    this.knownAddresses.delete(key);
    this.knownAddresses.set(key, now + KNOWN_ADDRESS_MS);
    if (this.knownAddresses.size > MAX_RECORDS) {
      const oldest = this.knownAddresses.keys().next().value;
      if (oldest !== undefined) this.knownAddresses.delete(oldest);
    }
  }

  private isKnown(address: string, account: string, now: number): boolean {
    const until = this.knownAddresses.get(pairKey(address, account));
    return until !== undefined && until > now;
  }
}

/** Usernames are compared case-insensitively by some databases, so the counters are too. */
function accountKey(username: string): string {
  return username.trim().slice(0, 256).toLowerCase();
}

function pairKey(address: string, account: string): string {
  return `${address}\n${account}`;
}

/**
 * The address a throttle counts under: IPv4 as is (also when IPv4-mapped), IPv6 by its /64,
 * the block one subscriber usually holds, so rotating through it gains nothing.
 */
export function throttleAddress(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::')
    ? [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
    : headGroups;
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '').toLowerCase()).join(':')}::/64`;
}
