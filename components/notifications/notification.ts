import { randomUUID } from 'node:crypto';
import { DEPLOY_REDACTED_PATHS, type DeployEventLevel, type DeployEventName, type DeployEventRecord } from '../events/deploy-events.js';

/**
 * One deployment event as every sink sends it. `metadata` is the event's fields with every
 * field that may carry a secret blanked (the same names the event log redacts, at any depth).
 */
export interface Notification {
  /** This notification's id: the same on every retry (receivers drop duplicates by it). */
  id: string;
  event: DeployEventName;
  level: DeployEventLevel;
  /** What a person reads: "release failed". */
  message: string;
  /** One id per run of the release process: every notification of one `pulumi up` shares it. */
  deploymentId: string;
  /** 1, 2, 3… in emission order within the deployment (deliveries run concurrently and may arrive out of order). */
  sequence: number;
  stack: string;
  release: string;
  /** When the event happened (ISO 8601, UTC). */
  timestamp: string;
  metadata: Record<string, unknown>;
}

export interface DeploymentContext {
  deploymentId: string;
  stack: string;
  /** The release this run deploys (or rolls back to); an event's own `release` field wins. */
  release: string;
}

const REDACTED = '[redacted]';
/** `password`, `*.password`… -> the field names themselves. */
const REDACTED_NAMES = new Set(DEPLOY_REDACTED_PATHS.map((path) => path.replace(/^\*\./, '')));

/** A JSON-safe copy with every secret-named field blanked, however deep. */
export function redactMetadata(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[too deep]';
  if (Array.isArray(value)) return value.map((item) => redactMetadata(item, depth + 1));
  if (value instanceof Error) return value.message;
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, inner]) => [key, REDACTED_NAMES.has(key) ? REDACTED : redactMetadata(inner, depth + 1)]),
    );
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  return value;
}

export function notificationOf(record: DeployEventRecord, context: DeploymentContext, sequence: number): Notification {
  const release = typeof record.fields.release === 'string' ? record.fields.release : context.release;
  return {
    id: randomUUID(),
    event: record.event,
    level: record.level,
    message: record.message,
    deploymentId: context.deploymentId,
    sequence,
    stack: context.stack,
    release,
    timestamp: record.time.toISOString(),
    metadata: redactMetadata(record.fields) as Record<string, unknown>,
  };
}

/** The details a person wants in a chat or phone notification, in this order, when present. */
const DETAIL_FIELDS: readonly (readonly [key: string, label: string])[] = [
  ['slot', 'slot'],
  ['previous', 'previous'],
  ['from', 'from'],
  ['to', 'to'],
  ['snapshot', 'snapshot'],
  ['ids', 'migrations'],
  ['migrated', 'migrations'],
  ['warning', 'warning'],
  ['error', 'error'],
];

function shown(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.map((item) => shown(item) ?? '').join(', ');
  if (typeof value === 'object') return undefined;
  return String(value);
}

function duration(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** The person-readable form shared by the chat and phone sinks. */
export interface NotificationText {
  /** `dev: release failed` */
  title: string;
  /** `[label, value]` pairs: release first, then what the event says (error, snapshot, slot…), then the duration. */
  details: [string, string][];
}

/** The pipeline runs a rollback as a release with `kind: 'rollback'`; people must see which one it was. */
export function isRollback(notification: Pick<Notification, 'event' | 'metadata'>): boolean {
  return notification.event === 'rolled-back' || notification.metadata.kind === 'rollback';
}

export function describeNotification(notification: Notification): NotificationText {
  const { metadata } = notification;
  const details: [string, string][] = [['release', notification.release]];
  for (const [key, label] of DETAIL_FIELDS) {
    const value = shown(metadata[key]);
    if (value !== undefined && !details.some(([existing]) => existing === label)) details.push([label, value]);
  }
  if (typeof metadata.durationMs === 'number') details.push(['took', duration(metadata.durationMs)]);
  const kind = notification.event !== 'rolled-back' && isRollback(notification) ? ' (rollback)' : '';
  return { title: `${notification.stack}: ${notification.message}${kind}`, details };
}

/** `release 0.3.0-… · error gate timed out · took 61 s`: one line, for plain-text sinks. */
export function notificationLine(text: NotificationText): string {
  return text.details.map(([label, value]) => `${label} ${value}`).join(' · ');
}
