import { readFileSync, readlinkSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import type { ReleaseImage } from '../release/plan.js';

/** Who holds the deploy lock, as recorded in the lock container's labels. */
export interface LockHolder {
  user: string;
  /** Host name of the machine running the release (not the Docker host). */
  host: string;
  pid: number;
  /**
   * `<boot id>:<pid namespace>` of the holder's process on Linux; with it, "the pid no longer
   * exists" is only believed for a holder in our own pid namespace of the same boot.
   */
  pidNamespace?: string;
  releaseId: string;
  version: string;
  startedAt: Date;
}

/** Where this process runs, to decide whether a holder's pid can be checked from here. */
export interface MachineIdentity {
  host: string;
  pidNamespace?: string;
}

export const LOCK_LABEL_PREFIX = 'org.trapperkeeper.deploy-lock';

const LABEL = {
  user: `${LOCK_LABEL_PREFIX}.user`,
  host: `${LOCK_LABEL_PREFIX}.host`,
  pid: `${LOCK_LABEL_PREFIX}.pid`,
  pidNamespace: `${LOCK_LABEL_PREFIX}.pid-namespace`,
  releaseId: `${LOCK_LABEL_PREFIX}.release-id`,
  version: `${LOCK_LABEL_PREFIX}.version`,
  startedAt: `${LOCK_LABEL_PREFIX}.started-at`,
  stack: `${LOCK_LABEL_PREFIX}.stack`,
} as const;

export function currentMachine(): MachineIdentity {
  const pidNamespace = readPidNamespace();
  return { host: hostname(), ...(pidNamespace ? { pidNamespace } : {}) };
}

/** The holder record of this process releasing `image`. */
export function lockHolderForThisProcess(image: Pick<ReleaseImage, 'releaseId' | 'version'>, now = new Date()): LockHolder {
  const machine = currentMachine();
  return {
    user: currentUser(),
    host: machine.host,
    pid: process.pid,
    ...(machine.pidNamespace ? { pidNamespace: machine.pidNamespace } : {}),
    releaseId: image.releaseId,
    version: image.version,
    startedAt: now,
  };
}

export function encodeLockLabels(holder: LockHolder, stack: string): Record<string, string> {
  return {
    [LABEL.user]: holder.user,
    [LABEL.host]: holder.host,
    [LABEL.pid]: String(holder.pid),
    ...(holder.pidNamespace ? { [LABEL.pidNamespace]: holder.pidNamespace } : {}),
    [LABEL.releaseId]: holder.releaseId,
    [LABEL.version]: holder.version,
    [LABEL.startedAt]: holder.startedAt.toISOString(),
    [LABEL.stack]: stack,
  };
}

export type DecodedLockLabels = { ok: true; holder: LockHolder } | { ok: false; problems: string[] };

/** Reads a holder back; every missing or malformed label is reported, none is guessed. */
export function decodeLockLabels(labels: Record<string, string> | null | undefined): DecodedLockLabels {
  const problems: string[] = [];
  const get = (key: string): string => {
    const value = labels?.[key];
    if (value === undefined || value === '') problems.push(`label ${key} is missing`);
    return value ?? '';
  };
  const user = get(LABEL.user);
  const host = get(LABEL.host);
  const pidText = get(LABEL.pid);
  const releaseId = get(LABEL.releaseId);
  const version = get(LABEL.version);
  const startedAtText = get(LABEL.startedAt);
  const pid = Number(pidText);
  if (pidText !== '' && !(/^[1-9][0-9]*$/.test(pidText) && Number.isSafeInteger(pid))) {
    problems.push(`label ${LABEL.pid} is not a process id: ${JSON.stringify(pidText)}`);
  }
  const startedAt = new Date(startedAtText);
  if (startedAtText !== '' && (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(startedAtText) || Number.isNaN(startedAt.getTime()))) {
    problems.push(`label ${LABEL.startedAt} is not an ISO UTC time: ${JSON.stringify(startedAtText)}`);
  }
  if (problems.length > 0) return { ok: false, problems };
  const pidNamespace = labels?.[LABEL.pidNamespace];
  return {
    ok: true,
    holder: { user, host, pid, ...(pidNamespace ? { pidNamespace } : {}), releaseId, version, startedAt },
  };
}

export type StaleDecision = { stale: true; reason: string } | { stale: false; reason: string };

/**
 * A holder is stale only when it provably no longer exists: it ran on this machine (same host
 * name and, where known, the same boot and pid namespace) and its pid is gone. A holder on any
 * other machine, or one we cannot check, is alive as far as we know: never broken automatically.
 */
export function decideStale(holder: LockHolder, here: MachineIdentity, isAlive: (pid: number) => boolean): StaleDecision {
  if (holder.host !== here.host) {
    return { stale: false, reason: `held from another machine (${holder.host}); its process cannot be checked from ${here.host}` };
  }
  if (holder.pidNamespace !== here.pidNamespace) {
    return { stale: false, reason: `held from another boot or pid namespace of ${holder.host}; its process cannot be checked from here` };
  }
  if (isAlive(holder.pid)) return { stale: false, reason: `process ${holder.pid} on ${holder.host} is running` };
  return { stale: true, reason: `process ${holder.pid} on ${holder.host} no longer exists` };
}

/** Signal 0 checks existence; EPERM means it exists under another user. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** "alice@laptop (pid 4242) releasing 1.4.0 since 2026-11-23T10:15:00.000Z (3m 12s ago)" */
export function describeHolder(holder: LockHolder, now: Date): string {
  const release = holder.releaseId && holder.releaseId !== holder.version ? ` [${holder.releaseId}]` : '';
  return (
    `${holder.user}@${holder.host} (pid ${holder.pid}) releasing ${holder.version}${release} ` +
    `since ${holder.startedAt.toISOString()} (${formatAge(now.getTime() - holder.startedAt.getTime())} ago)`
  );
}

/** "45s", "3m 12s", "2h 5m", "3d 4h"; a holder whose clock runs ahead of ours reads as 0s. */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const [d, h, m, s] = [Math.floor(seconds / 86_400), Math.floor(seconds / 3600) % 24, Math.floor(seconds / 60) % 60, seconds % 60];
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? `uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

function readPidNamespace(): string | undefined {
  try {
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const namespace = readlinkSync('/proc/self/ns/pid');
    return `${bootId}:${namespace}`;
  } catch {
    return undefined;
  }
}
