import { z } from 'zod';
import { DEPLOY_EVENT_NAMES, type DeployEventName } from '../events/deploy-events.js';
import { DeployError } from '../errors.js';

/**
 * The environment variable of the release command that carries the sink settings (JSON, with
 * URLs and secrets), set by `pulumi up` from the stack's `notifications` config as a Pulumi
 * secret. Never in the release spec, never logged.
 */
export const NOTIFY_ENV = 'TK_NOTIFY';

export const SINK_NAMES = ['webhook', 'ntfy', 'slack'] as const;
export type SinkName = (typeof SINK_NAMES)[number];

/**
 * The events each sink sends unless its `events` says otherwise: every milestone to a machine
 * (webhook), beginnings and outcomes to a channel (Slack), outcomes only to a phone (ntfy).
 */
export const DEFAULT_SINK_EVENTS: Readonly<Record<SinkName, readonly DeployEventName[]>> = {
  webhook: ['release.started', 'snapshot.taken', 'migrated', 'promoted', 'release.succeeded', 'release.failed', 'rolled-back'],
  slack: ['release.started', 'release.succeeded', 'release.failed', 'rolled-back'],
  ntfy: ['release.succeeded', 'release.failed', 'rolled-back'],
};

/** One HTTP attempt is cut after this long. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 5_000;
/**
 * One notification, retries included, gives up after this long: the most a failing or hanging
 * sink can add to the end of a release (the release waits for pending notifications this long at most).
 */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 15_000;
export const MIN_TIMEOUT_MS = 100;
export const MAX_DELIVERY_TIMEOUT_MS = 120_000;

const httpUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
    } catch {
      return false;
    }
  },
  { error: 'must be an http:// or https:// URL' },
);

const events = (sink: SinkName) => z.array(z.enum(DEPLOY_EVENT_NAMES)).default([...DEFAULT_SINK_EVENTS[sink]]);
const timeout = (fallback: number) => z.int().min(MIN_TIMEOUT_MS).max(MAX_DELIVERY_TIMEOUT_MS).default(fallback);

/**
 * TK_NOTIFY as the release process reads it: the sinks that are on, each with its URL, its
 * credentials and the events it receives. The Pulumi program builds it from the validated stack
 * config (providers/notifications-config.ts), so a problem here means it was set by hand.
 *
 * @example {"webhook":{"url":"https://ops.example.com/hooks/tk","secret":"…"},"ntfy":{"url":"https://ntfy.sh/tk-prod-3f9c"}}
 */
export const notifySettingsSchema = z.strictObject({
  attemptTimeoutMs: timeout(DEFAULT_ATTEMPT_TIMEOUT_MS),
  deliveryTimeoutMs: timeout(DEFAULT_DELIVERY_TIMEOUT_MS),
  webhook: z.strictObject({ url: httpUrl, secret: z.string().min(1), events: events('webhook') }).optional(),
  ntfy: z.strictObject({ url: httpUrl, token: z.string().min(1).optional(), events: events('ntfy') }).optional(),
  slack: z.strictObject({ url: httpUrl, events: events('slack') }).optional(),
});

export type NotifySettings = z.output<typeof notifySettingsSchema>;
export type NotifySettingsInput = z.input<typeof notifySettingsSchema>;

/** The sinks that are on, in a fixed order. */
export function enabledSinks(settings: NotifySettingsInput): SinkName[] {
  return SINK_NAMES.filter((name) => settings[name] !== undefined);
}

/**
 * The settings in TK_NOTIFY, or undefined when it is unset (no sink is on). A malformed value is
 * refused with the key that is wrong; values are never echoed (they hold secrets).
 */
export function notifySettingsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): NotifySettings | undefined {
  const text = env[NOTIFY_ENV];
  if (text === undefined || text.trim() === '') return undefined;
  const fix = 'run the release through `pulumi up`, which sets it from the stack config (notifications.*), or unset it';
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new DeployError(`${NOTIFY_ENV} is not valid JSON`, fix);
  }
  const parsed = notifySettingsSchema.safeParse(raw, { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.join(', ')}` : undefined) });
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.code === 'invalid_value' ? 'is not a known value' : issue.message}`);
  throw new DeployError(`${NOTIFY_ENV} is not valid: ${problems.join('; ')}`, fix);
}
