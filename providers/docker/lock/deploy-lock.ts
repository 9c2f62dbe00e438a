import { setTimeout as sleep } from 'node:timers/promises';
import type { DockerEngine } from '../engine.js';
import { DockerCommandError } from '../engine.js';
import { DeployError } from '../../../components/errors.js';
import type { DeployEvents } from '../../../components/events/deploy-events.js';
import { releaseCli } from '../../release-command-line.js';
import type { ReleaseSpec } from '../spec.js';
import {
  DEFAULT_LOCK_IMAGE,
  DEFAULT_LOCK_POLL_MS,
  EMPTY_TAR,
  createLockArgs,
  importLockImageArgs,
  inspectLockArgs,
  inspectLockImageArgs,
  isMissingImage,
  isNameConflict,
  isNoSuchObject,
  lockContainerName,
  removeLockArgs,
} from './lock-commands.js';
import {
  currentMachine,
  decideStale,
  decodeLockLabels,
  describeHolder,
  encodeLockLabels,
  isProcessAlive,
  type LockHolder,
  type MachineIdentity,
} from '../../../components/lock/lock-holder.js';

export type LockSpec = Pick<ReleaseSpec, 'stack' | 'prefix'>;

export type DeployLockStatus =
  | { state: 'free'; name: string }
  | { state: 'held'; name: string; containerId: string; holder: LockHolder }
  | { state: 'unreadable'; name: string; containerId: string; labels: Record<string, string>; problems: string[] };

export interface DeployLock {
  readonly name: string;
  readonly containerId: string;
  readonly holder: LockHolder;
  /** Removes this lock (never a lock someone else created since); safe to call more than once. */
  release(): Promise<void>;
}

export interface AcquireDeployLockOptions {
  /** Wait this long for a held lock to be released; 0 refuses at once. @default 0 */
  waitMs?: number;
  /** @default DEFAULT_LOCK_POLL_MS */
  pollMs?: number;
  events?: DeployEvents;
  /** @default DEFAULT_LOCK_IMAGE */
  image?: string;
  /** Seams for tests; the defaults look at this process and machine. */
  machine?: MachineIdentity;
  isAlive?: (pid: number) => boolean;
}

/** Refusal because another release holds the lock; `status` has the holder for a CLI to print. */
export class DeployLockHeldError extends DeployError {
  constructor(
    message: string,
    fix: string,
    readonly status: Exclude<DeployLockStatus, { state: 'free' }>,
  ) {
    super(message, fix);
    this.name = 'DeployLockHeldError';
  }
}

export function breakLockCommand(stack: string): string {
  return releaseCli('lock', 'break', '--stack', stack);
}

/**
 * Takes the stack's deploy lock on the target Docker host for a whole release. Refuses with the
 * holder's details while another release holds it (after waiting up to `waitMs`). A holder that
 * provably no longer exists (this machine, pid gone) is broken and logged; nothing else is.
 */
export async function acquireDeployLock(
  engine: DockerEngine,
  spec: LockSpec,
  holder: LockHolder,
  options: AcquireDeployLockOptions = {},
): Promise<DeployLock> {
  const name = lockContainerName(spec.prefix);
  const image = options.image ?? DEFAULT_LOCK_IMAGE;
  const waitMs = options.waitMs ?? 0;
  const pollMs = options.pollMs ?? DEFAULT_LOCK_POLL_MS;
  const machine = options.machine ?? currentMachine();
  const isAlive = options.isAlive ?? isProcessAlive;
  const started = Date.now();
  const deadline = started + waitMs;
  const args = createLockArgs(name, encodeLockLabels(holder, spec.stack), image);
  let announcedWait = false;

  await ensureLockImage(engine, image);
  for (;;) {
    let result = await engine.exec(args);
    if (result.exitCode !== 0 && isMissingImage(result.stderr)) {
      // Pruned between our check and the create: import again, once.
      await ensureLockImage(engine, image);
      result = await engine.exec(args);
    }
    if (result.exitCode === 0) {
      const lock = heldLock(engine, name, result.stdout.trim(), holder, options.events);
      options.events?.emit('lock.acquired', { lock: name, holder: holderFields(holder), waitedMs: Date.now() - started });
      return lock;
    }
    if (!isNameConflict(result.stderr)) throw new DockerCommandError(args, result);

    const status = await readDeployLock(engine, spec);
    if (status.state === 'free') continue;
    if (status.state === 'held') {
      const decision = decideStale(status.holder, machine, isAlive);
      if (decision.stale) {
        await removeLock(engine, status.containerId);
        options.events?.logger.warn(
          { event: 'lock.broken', lock: name, holder: holderFields(status.holder), reason: decision.reason, automatic: true },
          `broke the stale deploy lock: ${decision.reason}`,
        );
        continue;
      }
    }
    const now = Date.now();
    if (now >= deadline) throw refusal(spec, status, waitMs > 0 ? now - started : 0);
    if (!announcedWait) {
      announcedWait = true;
      options.events?.logger.info(
        { event: 'lock.waiting', lock: name, ...(status.state === 'held' ? { holder: holderFields(status.holder) } : {}), waitMs },
        'waiting for the deploy lock',
      );
    }
    await sleep(Math.min(pollMs, deadline - now));
  }
}

/** The lock's current state, for `lock status` and for refusals. */
export async function readDeployLock(engine: DockerEngine, spec: Pick<ReleaseSpec, 'prefix'>): Promise<DeployLockStatus> {
  const name = lockContainerName(spec.prefix);
  const args = inspectLockArgs(name);
  const result = await engine.exec(args);
  if (result.exitCode !== 0) {
    if (isNoSuchObject(result.stderr)) return { state: 'free', name };
    throw new DockerCommandError(args, result);
  }
  const container = parseInspect(result.stdout);
  const labels = container.Config?.Labels ?? {};
  const decoded = decodeLockLabels(labels);
  const containerId = container.Id ?? name;
  return decoded.ok
    ? { state: 'held', name, containerId, holder: decoded.holder }
    : { state: 'unreadable', name, containerId, labels, problems: decoded.problems };
}

export interface BreakDeployLockOptions {
  events?: DeployEvents;
  /** Who breaks it and why, for the log. */
  by?: string;
  reason?: string;
}

/**
 * Removes the lock whoever holds it: the explicit operator command for a holder known to be
 * gone. Logged with the holder it removed; returns what it found (`free` when there was none).
 */
export async function breakDeployLock(engine: DockerEngine, spec: LockSpec, options: BreakDeployLockOptions = {}): Promise<DeployLockStatus> {
  const status = await readDeployLock(engine, spec);
  if (status.state === 'free') {
    options.events?.logger.info({ event: 'lock.broken', lock: status.name, found: false }, 'no deploy lock to break');
    return status;
  }
  await removeLock(engine, status.containerId);
  options.events?.logger.warn(
    {
      event: 'lock.broken',
      lock: status.name,
      automatic: false,
      ...(status.state === 'held' ? { holder: holderFields(status.holder) } : { labels: status.labels, problems: status.problems }),
      ...(options.by ? { by: options.by } : {}),
      ...(options.reason ? { reason: options.reason } : {}),
    },
    'broke the deploy lock by request',
  );
  return status;
}

function heldLock(engine: DockerEngine, name: string, containerId: string, holder: LockHolder, events?: DeployEvents): DeployLock {
  let released: Promise<void> | undefined;
  const acquiredAt = Date.now();
  return {
    name,
    containerId,
    holder,
    release() {
      released ??= removeLock(engine, containerId).then(() => {
        events?.emit('lock.released', { lock: name, heldMs: Date.now() - acquiredAt });
      });
      return released;
    },
  };
}

async function removeLock(engine: DockerEngine, containerId: string): Promise<void> {
  const args = removeLockArgs(containerId);
  const result = await engine.exec(args);
  if (result.exitCode !== 0 && !isNoSuchObject(result.stderr)) throw new DockerCommandError(args, result);
}

async function ensureLockImage(engine: DockerEngine, image: string): Promise<void> {
  const present = await engine.exec(inspectLockImageArgs(image));
  if (present.exitCode === 0) return;
  await engine.run(importLockImageArgs(image), { input: EMPTY_TAR });
}

function refusal(spec: LockSpec, status: Exclude<DeployLockStatus, { state: 'free' }>, waitedMs: number): DeployLockHeldError {
  const waited = waitedMs > 0 ? ` (waited ${Math.round(waitedMs / 1000)}s)` : '';
  const breakIt = breakLockCommand(spec.stack);
  if (status.state === 'unreadable') {
    return new DeployLockHeldError(
      `The deploy lock ${status.name} exists but its labels cannot be read (${status.problems.join('; ')}); ` +
        `it is never broken automatically${waited}`,
      `check it with \`docker container inspect ${status.name}\`; if no release is running, break it: ${breakIt}`,
      status,
    );
  }
  return new DeployLockHeldError(
    `Another release holds the deploy lock: ${describeHolder(status.holder, new Date())}${waited}`,
    `wait for that release to finish (or set the lock wait), or, if you know it is gone, break the lock: ${breakIt}`,
    status,
  );
}

function holderFields(holder: LockHolder): Record<string, unknown> {
  return {
    user: holder.user,
    host: holder.host,
    pid: holder.pid,
    releaseId: holder.releaseId,
    version: holder.version,
    startedAt: holder.startedAt.toISOString(),
  };
}

interface InspectedContainer {
  Id?: string;
  Config?: { Labels?: Record<string, string> | null };
}

function parseInspect(stdout: string): InspectedContainer {
  const parsed: unknown = JSON.parse(stdout);
  // `container inspect --format '{{json .}}'` prints one object; plain `inspect` an array.
  const container = Array.isArray(parsed) ? parsed[0] : parsed;
  return (container ?? {}) as InspectedContainer;
}
