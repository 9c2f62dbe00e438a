import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Bucket } from '@google-cloud/storage';
import { DeployError } from '../../../components/errors.js';
import type { DeployEvents } from '../../../components/events/deploy-events.js';
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
import type { HeldLock, LockPort } from '../../../components/release/ports.js';
import { releaseCli } from '../../release-command-line.js';
import { LOCK_OBJECT, storageErrorCode } from '../storage/release-bucket.js';

/**
 * The deploy lock of a GCP stack: one object in the release-state bucket, created only when
 * absent (`ifGenerationMatch=0`), so Cloud Storage decides atomically who holds it. The holder is
 * the object's custom metadata (the same fields as the Docker lock's labels). Releasing, breaking
 * and stealing a stale lock name the generation they read, so none of them can remove or replace
 * a lock someone else took in between.
 */
export const DEFAULT_GCS_LOCK_POLL_MS = 1000;
/** One random value per acquisition: tells our own create (answer lost, retried) from another holder's. */
const ATTEMPT_KEY = 'org.trapperkeeper.deploy-lock.attempt';

export interface GcsLockSpec {
  stack: string;
  bucket: Bucket;
}

export type GcsLockStatus =
  | { state: 'free'; object: string }
  | { state: 'held'; object: string; generation: string; holder: LockHolder; attempt?: string }
  | { state: 'unreadable'; object: string; generation: string; metadata: Record<string, string>; problems: string[] };

export interface GcsLock {
  readonly object: string;
  /** The generation this process created: releasing deletes exactly it. */
  readonly generation: string;
  readonly holder: LockHolder;
  /** Deletes this lock (never one taken since); safe to call more than once. */
  release(): Promise<void>;
}

export interface AcquireGcsLockOptions {
  /** Wait this long for a held lock; 0 refuses at once. @default 0 */
  waitMs?: number;
  /** @default DEFAULT_GCS_LOCK_POLL_MS */
  pollMs?: number;
  events?: DeployEvents;
  /** Seams for tests; the defaults look at this process and machine. */
  machine?: MachineIdentity;
  isAlive?: (pid: number) => boolean;
}

export class GcsLockHeldError extends DeployError {
  constructor(
    message: string,
    fix: string,
    readonly status: Exclude<GcsLockStatus, { state: 'free' }>,
  ) {
    super(message, fix);
    this.name = 'GcsLockHeldError';
  }
}

export async function acquireGcsLock(spec: GcsLockSpec, holder: LockHolder, options: AcquireGcsLockOptions = {}): Promise<GcsLock> {
  const waitMs = options.waitMs ?? 0;
  const pollMs = options.pollMs ?? DEFAULT_GCS_LOCK_POLL_MS;
  const machine = options.machine ?? currentMachine();
  const isAlive = options.isAlive ?? isProcessAlive;
  const started = Date.now();
  const deadline = started + waitMs;
  const attempt = randomUUID();
  const metadata = { ...encodeLockLabels(holder, spec.stack), [ATTEMPT_KEY]: attempt };
  let announcedWait = false;

  for (;;) {
    const created = await writeLock(spec.bucket, metadata, 0);
    if (created !== undefined) return acquired(spec, created, holder, started, options.events);

    const status = await readGcsLock(spec);
    if (status.state === 'free') continue;
    if (status.state === 'held') {
      // Our own create whose answer was lost and retried by the client: the object is ours.
      if (status.attempt === attempt) return acquired(spec, status.generation, holder, started, options.events);
      const decision = decideStale(status.holder, machine, isAlive);
      if (decision.stale) {
        // Replacing exactly the generation judged stale: a holder that appeared since wins instead.
        const stolen = await writeLock(spec.bucket, metadata, status.generation);
        if (stolen !== undefined) {
          options.events?.logger.warn(
            { event: 'lock.broken', lock: lockName(spec), holder: holderFields(status.holder), reason: decision.reason, automatic: true },
            `broke the stale deploy lock: ${decision.reason}`,
          );
          return acquired(spec, stolen, holder, started, options.events);
        }
        continue;
      }
    }
    const now = Date.now();
    if (now >= deadline) throw refusal(spec, status, waitMs > 0 ? now - started : 0);
    if (!announcedWait) {
      announcedWait = true;
      options.events?.logger.info(
        { event: 'lock.waiting', lock: lockName(spec), ...(status.state === 'held' ? { holder: holderFields(status.holder) } : {}), waitMs },
        'waiting for the deploy lock',
      );
    }
    await sleep(Math.min(pollMs, deadline - now));
  }
}

export async function readGcsLock(spec: GcsLockSpec): Promise<GcsLockStatus> {
  let metadata: { generation?: string | number; metadata?: Record<string, unknown> };
  try {
    [metadata] = await spec.bucket.file(LOCK_OBJECT).getMetadata();
  } catch (error) {
    if (storageErrorCode(error) === 404) return { state: 'free', object: LOCK_OBJECT };
    throw lockApiError(spec, 'read', error);
  }
  const generation = String(metadata.generation ?? '');
  const custom = Object.fromEntries(Object.entries(metadata.metadata ?? {}).map(([k, v]) => [k, String(v)]));
  const decoded = decodeLockLabels(custom);
  return decoded.ok
    ? { state: 'held', object: LOCK_OBJECT, generation, holder: decoded.holder, ...(custom[ATTEMPT_KEY] ? { attempt: custom[ATTEMPT_KEY] } : {}) }
    : { state: 'unreadable', object: LOCK_OBJECT, generation, metadata: custom, problems: decoded.problems };
}

/** The explicit operator command: removes the lock whoever holds it (the generation it read). */
export async function breakGcsLock(spec: GcsLockSpec, options: { events?: DeployEvents; by?: string; reason?: string } = {}): Promise<GcsLockStatus> {
  const status = await readGcsLock(spec);
  if (status.state === 'free') {
    options.events?.logger.info({ event: 'lock.broken', lock: lockName(spec), found: false }, 'no deploy lock to break');
    return status;
  }
  await deleteGeneration(spec, status.generation);
  options.events?.logger.warn(
    {
      event: 'lock.broken',
      lock: lockName(spec),
      automatic: false,
      ...(status.state === 'held' ? { holder: holderFields(status.holder) } : { problems: status.problems }),
      ...(options.by ? { by: options.by } : {}),
      ...(options.reason ? { reason: options.reason } : {}),
    },
    'broke the deploy lock by request',
  );
  return status;
}

export function breakGcsLockCommand(stack: string): string {
  return releaseCli('lock', 'break', '--stack', stack);
}

/**
 * Writes the lock object only if its generation is still `ifGeneration` (0: absent). Returns the
 * new generation, or undefined when Cloud Storage refused the precondition (someone else won).
 */
async function writeLock(bucket: Bucket, metadata: Record<string, string>, ifGeneration: number | string): Promise<string | undefined> {
  const file = bucket.file(LOCK_OBJECT);
  try {
    await file.save(JSON.stringify(metadata), {
      resumable: false,
      contentType: 'application/json',
      metadata: { metadata, cacheControl: 'no-store' },
      preconditionOpts: { ifGenerationMatch: Number(ifGeneration) },
    });
  } catch (error) {
    if (storageErrorCode(error) === 412) return undefined;
    throw new DeployError(
      `Cannot write the deploy lock gs://${bucket.name}/${LOCK_OBJECT}: ${(error as Error).message}`,
      `check that the release's credentials may create objects in gs://${bucket.name} (roles/storage.objectUser), then run pulumi up again`,
    );
  }
  return String(file.metadata.generation);
}

/** Deletes one generation of the lock: `generation` names it, ifGenerationMatch guards it (Cloud Storage enforces both). */
async function deleteGeneration(spec: GcsLockSpec, generation: string): Promise<'deleted' | 'gone'> {
  try {
    await spec.bucket.file(LOCK_OBJECT, { generation: Number(generation) }).delete({ ifGenerationMatch: Number(generation) });
    return 'deleted';
  } catch (error) {
    const code = storageErrorCode(error);
    if (code === 404 || code === 412) return 'gone';
    throw lockApiError(spec, 'delete', error);
  }
}

function acquired(spec: GcsLockSpec, generation: string, holder: LockHolder, started: number, events: DeployEvents | undefined): GcsLock {
  events?.emit('lock.acquired', { lock: lockName(spec), holder: holderFields(holder), waitedMs: Date.now() - started });
  const acquiredAt = Date.now();
  let released: Promise<void> | undefined;
  return {
    object: LOCK_OBJECT,
    generation,
    holder,
    release() {
      released ??= deleteGeneration(spec, generation).then((outcome) => {
        if (outcome === 'gone') {
          events?.logger.warn({ event: 'lock.released', lock: lockName(spec), found: false }, 'the deploy lock was broken or replaced while this release held it; the lock there now was left alone');
          return;
        }
        events?.emit('lock.released', { lock: lockName(spec), heldMs: Date.now() - acquiredAt });
      });
      return released;
    },
  };
}

function lockName(spec: GcsLockSpec): string {
  return `gs://${spec.bucket.name}/${LOCK_OBJECT}`;
}

function lockApiError(spec: GcsLockSpec, action: string, error: unknown): DeployError {
  return new DeployError(
    `Cannot ${action} the deploy lock ${lockName(spec)}: ${(error as Error).message}`,
    `check the release's credentials (gcloud auth application-default login) and that the bucket exists (pulumi up creates it)`,
  );
}

function refusal(spec: GcsLockSpec, status: Exclude<GcsLockStatus, { state: 'free' }>, waitedMs: number): GcsLockHeldError {
  const waited = waitedMs > 0 ? ` (waited ${Math.round(waitedMs / 1000)}s)` : '';
  const breakIt = breakGcsLockCommand(spec.stack);
  if (status.state === 'unreadable') {
    return new GcsLockHeldError(
      `The deploy lock ${lockName(spec)} exists but its metadata cannot be read (${status.problems.join('; ')}); it is never broken automatically${waited}`,
      `check it with \`gcloud storage objects describe ${lockName(spec)}\`; if no release is running, break it: ${breakIt}`,
      status,
    );
  }
  return new GcsLockHeldError(
    `Another release holds the deploy lock: ${describeHolder(status.holder, new Date())}${waited}`,
    `wait for that release to finish (or set release.lockWaitMs), or, if you know it is gone, break the lock: ${breakIt}`,
    status,
  );
}

function holderFields(holder: LockHolder): Record<string, unknown> {
  return { user: holder.user, host: holder.host, pid: holder.pid, releaseId: holder.releaseId, version: holder.version, startedAt: holder.startedAt.toISOString() };
}

/** The lock as the release pipeline's LockPort (components/release/ports.ts). */
export function gcsLockPort(spec: GcsLockSpec, options: Pick<AcquireGcsLockOptions, 'pollMs' | 'machine' | 'isAlive'> = {}): LockPort {
  return {
    async acquire(holder, { waitMs, events }): Promise<HeldLock> {
      const lock = await acquireGcsLock(spec, holder, { ...options, waitMs, events });
      return { name: lockName(spec), release: () => lock.release() };
    },
  };
}
