import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException, DeleteItemCommand, GetItemCommand, PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeployError } from '../../../components/errors.js';
import { releaseCli } from '../../release-command-line.js';
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
import type { HeldLock } from '../../../components/release/ports.js';

/**
 * The deploy lock of an AWS stack: one item in the stack's DynamoDB table, created with a
 * conditional put (`attribute_not_exists`), so of two releases exactly one gets it. The item holds
 * the holder as the Docker lock's labels do (user, host, pid, release, start time) and a random
 * token; releasing and breaking delete it only while it still carries the token that was read,
 * so a lock someone else took since is never removed.
 */
export const LOCK_KEY = { name: 'lock', value: 'deploy' } as const;
export const DEFAULT_LOCK_POLL_MS = 1_000;

export interface DynamoLockTarget {
  client: DynamoDBClient;
  region: string;
  table: string;
  stack: string;
}

export interface AcquireOptions {
  /** Wait this long for a held lock; 0 refuses at once. */
  waitMs: number;
  events?: DeployEvents;
  pollMs?: number;
  /** Seams for tests; the defaults look at this process and machine. */
  machine?: MachineIdentity;
  isAlive?: (pid: number) => boolean;
}

export type DynamoLockStatus =
  | { state: 'free' }
  | { state: 'held'; token: string; holder: LockHolder }
  | { state: 'unreadable'; token: string | undefined; problems: string[] };

export class AwsLockHeldError extends DeployError {
  constructor(
    message: string,
    fix: string,
    readonly status: Exclude<DynamoLockStatus, { state: 'free' }>,
  ) {
    super(message, fix);
    this.name = 'AwsLockHeldError';
  }
}

const key = (): Record<string, AttributeValue> => ({ [LOCK_KEY.name]: { S: LOCK_KEY.value } });

export async function acquireDynamoLock(target: DynamoLockTarget, holder: LockHolder, options: AcquireOptions): Promise<HeldLock> {
  const started = Date.now();
  const deadline = started + options.waitMs;
  const machine = options.machine ?? currentMachine();
  const isAlive = options.isAlive ?? isProcessAlive;
  const name = `${target.table}/${LOCK_KEY.value}`;
  const token = randomUUID();
  let announcedWait = false;
  for (;;) {
    try {
      await target.client.send(
        new PutItemCommand({
          TableName: target.table,
          Item: { ...key(), token: { S: token }, holder: { M: toAttributes(encodeLockLabels(holder, target.stack)) } },
          ConditionExpression: 'attribute_not_exists(#k)',
          ExpressionAttributeNames: { '#k': LOCK_KEY.name },
        }),
      );
      options.events?.emit('lock.acquired', { lock: name, holder: holderFields(holder), waitedMs: Date.now() - started });
      return heldLock(target, name, token, options.events);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const status = await readDynamoLock(target);
    if (status.state === 'free') continue;
    if (status.state === 'held') {
      const decision = decideStale(status.holder, machine, isAlive);
      if (decision.stale) {
        await deleteIfToken(target, status.token);
        options.events?.logger.warn({ event: 'lock.broken', lock: name, holder: holderFields(status.holder), reason: decision.reason, automatic: true }, `broke the stale deploy lock: ${decision.reason}`);
        continue;
      }
    }
    const now = Date.now();
    if (now >= deadline) throw refusal(target, status, options.waitMs > 0 ? now - started : 0);
    if (!announcedWait) {
      announcedWait = true;
      options.events?.emit('lock.waiting', { lock: name, ...(status.state === 'held' ? { holder: holderFields(status.holder) } : {}), waitMs: options.waitMs });
    }
    await sleep(Math.min(options.pollMs ?? DEFAULT_LOCK_POLL_MS, deadline - now));
  }
}

/** The lock as it is now (a strongly consistent read). */
export async function readDynamoLock(target: DynamoLockTarget): Promise<DynamoLockStatus> {
  const { Item: item } = await target.client.send(new GetItemCommand({ TableName: target.table, Key: key(), ConsistentRead: true }));
  if (!item) return { state: 'free' };
  const token = item.token?.S;
  const labels = fromAttributes(item.holder?.M);
  const decoded = decodeLockLabels(labels);
  if (token === undefined) return { state: 'unreadable', token, problems: ['attribute token is missing', ...(decoded.ok ? [] : decoded.problems)] };
  return decoded.ok ? { state: 'held', token, holder: decoded.holder } : { state: 'unreadable', token, problems: decoded.problems };
}

/**
 * Removes the lock whoever holds it: the operator's command for a holder known to be gone. Only
 * the item that was read is deleted; returns what it found.
 */
export async function breakDynamoLock(target: DynamoLockTarget, events?: DeployEvents, request: { by?: string; reason?: string } = {}): Promise<DynamoLockStatus> {
  const status = await readDynamoLock(target);
  if (status.state === 'free') return status;
  if (status.token === undefined) await target.client.send(new DeleteItemCommand({ TableName: target.table, Key: key(), ConditionExpression: 'attribute_not_exists(#t)', ExpressionAttributeNames: { '#t': 'token' } }));
  else await deleteIfToken(target, status.token);
  events?.logger.warn(
    {
      event: 'lock.broken',
      lock: `${target.table}/${LOCK_KEY.value}`,
      automatic: false,
      ...(request.by ? { by: request.by } : {}),
      ...(request.reason ? { reason: request.reason } : {}),
      ...(status.state === 'held' ? { holder: holderFields(status.holder) } : { problems: status.problems }),
    },
    'broke the deploy lock by request',
  );
  return status;
}

function heldLock(target: DynamoLockTarget, name: string, token: string, events?: DeployEvents): HeldLock {
  let released: Promise<void> | undefined;
  const acquiredAt = Date.now();
  return {
    name,
    release() {
      released ??= deleteIfToken(target, token).then((deleted) => {
        if (deleted) events?.emit('lock.released', { lock: name, heldMs: Date.now() - acquiredAt });
        else events?.logger.warn({ event: 'lock.released', lock: name, found: false }, 'the deploy lock was no longer ours to release (it was broken meanwhile)');
      });
      return released;
    },
  };
}

/** Deletes the lock item only while it carries `token`; false when it did not (gone, or another holder's). */
async function deleteIfToken(target: DynamoLockTarget, token: string): Promise<boolean> {
  try {
    await target.client.send(
      new DeleteItemCommand({ TableName: target.table, Key: key(), ConditionExpression: '#t = :t', ExpressionAttributeNames: { '#t': 'token' }, ExpressionAttributeValues: { ':t': { S: token } } }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/**
 * How a person breaks the lock of a holder known to be gone: the release CLI's `lock break`
 * (which deletes only the item it read), or the AWS CLI's delete of the one item.
 */
export function breakAwsLockCommand(target: Pick<DynamoLockTarget, 'region' | 'table' | 'stack'>): string {
  return (
    `${releaseCli('lock', 'break', '--stack', target.stack)} --reason '<why>' ` +
    `(or: aws dynamodb delete-item --region ${target.region} --table-name ${target.table} --key '{"${LOCK_KEY.name}":{"S":"${LOCK_KEY.value}"}}')`
  );
}

function refusal(target: DynamoLockTarget, status: Exclude<DynamoLockStatus, { state: 'free' }>, waitedMs: number): AwsLockHeldError {
  const waited = waitedMs > 0 ? ` (waited ${Math.round(waitedMs / 1000)}s)` : '';
  const breakIt = breakAwsLockCommand(target);
  if (status.state === 'unreadable') {
    return new AwsLockHeldError(
      `The deploy lock in DynamoDB table ${target.table} exists but cannot be read (${status.problems.join('; ')}); it is never broken automatically${waited}`,
      `check it with \`aws dynamodb get-item --region ${target.region} --table-name ${target.table} --key '{"${LOCK_KEY.name}":{"S":"${LOCK_KEY.value}"}}'\`; if no release is running, break it: ${breakIt}`,
      status,
    );
  }
  return new AwsLockHeldError(
    `Another release holds the deploy lock: ${describeHolder(status.holder, new Date())}${waited}`,
    `wait for that release to finish (or set release.lockWaitMs), or, if you know it is gone, break the lock: ${breakIt}`,
    status,
  );
}

function toAttributes(labels: Record<string, string>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, { S: v }]));
}

function fromAttributes(map: Record<string, AttributeValue> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(map ?? {}).flatMap(([k, v]) => (v.S !== undefined ? [[k, v.S]] : [])));
}

function holderFields(holder: LockHolder): Record<string, unknown> {
  return { user: holder.user, host: holder.host, pid: holder.pid, releaseId: holder.releaseId, version: holder.version, startedAt: holder.startedAt.toISOString() };
}
