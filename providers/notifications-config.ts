import * as pulumi from '@pulumi/pulumi';
import { z } from 'zod';
import { DEPLOY_EVENT_NAMES, type DeployEventName } from '../components/events/deploy-events.js';
import {
  DEFAULT_ATTEMPT_TIMEOUT_MS,
  DEFAULT_DELIVERY_TIMEOUT_MS,
  DEFAULT_SINK_EVENTS,
  MAX_DELIVERY_TIMEOUT_MS,
  MIN_TIMEOUT_MS,
  enabledSinks,
  notifySettingsSchema,
  type NotifySettingsInput,
  type SinkName,
} from '../components/notifications/settings.js';
import type { ConfigExamples, ConfigProblem } from './config-errors.js';
import { CONFIG_NAMESPACE, configSetCommand, validFields } from './config-errors.js';
import type { SecretSources } from './stack-secrets.js';

/** A webhook secret shorter than this is refused: it is an HMAC key. */
export const MIN_WEBHOOK_SECRET_LENGTH = 32;

/**
 * The notification settings that are credentials, and where each may come from besides the
 * stack config (first found wins, as for the stack's other secrets): the environment, then
 * `.env.<stack>`. A Slack incoming-webhook URL is itself the credential.
 */
export const NOTIFICATION_SECRETS = {
  'notifications.webhook.secret': { envName: 'TK_NOTIFY_WEBHOOK_SECRET', example: '"$(openssl rand -hex 32)"' },
  'notifications.slack.url': { envName: 'TK_NOTIFY_SLACK_URL', example: 'https://hooks.slack.com/services/T000/B000/XXXX' },
  'notifications.ntfy.token': { envName: 'TK_NOTIFY_NTFY_TOKEN', example: 'tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2' },
} as const;
type SecretPath = keyof typeof NOTIFICATION_SECRETS;

function urlProblem(value: string, options: { path?: 'required' | 'forbidden' } = {}): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be http:// or https:// (not ${url.protocol.replace(/:$/, '')})`;
  if (url.hostname === '') return 'has no host';
  if (url.username !== '' || url.password !== '') return 'must carry no user or password';
  if (options.path === 'required' && (url.pathname === '/' || url.pathname === '')) return 'must end in the topic, e.g. https://ntfy.sh/trapperkeeper-prod-3f9c2a';
  return undefined;
}

const url = (what: string, options: { path?: 'required' } = {}) =>
  z.string().superRefine((value, ctx) => {
    const problem = urlProblem(value, options);
    if (problem) ctx.addIssue({ code: 'custom', message: `${problem} (${what})` });
  });

const timeout = (fallback: number) =>
  z
    .int({ error: (issue) => (issue.input === undefined ? undefined : 'must be a whole number of milliseconds') })
    .min(MIN_TIMEOUT_MS, { error: `must be at least ${MIN_TIMEOUT_MS}` })
    .max(MAX_DELIVERY_TIMEOUT_MS, { error: `must be at most ${MAX_DELIVERY_TIMEOUT_MS}` })
    .default(fallback);

/** A list, or one comma-separated string (`pulumi config set --path 'notifications.slack.events' release.failed,rolled-back`). */
const events = z
  .preprocess(
    (value) => (typeof value === 'string' ? value.split(/[\s,]+/).filter((name) => name !== '') : value),
    z.array(z.string(), { error: 'must be a list of event names, or one comma-separated string of them' }).superRefine((names, ctx) => {
      const unknown = names.filter((name) => !(DEPLOY_EVENT_NAMES as readonly string[]).includes(name));
      if (unknown.length > 0) ctx.addIssue({ code: 'custom', message: `names unknown event ${unknown.map((name) => `'${name}'`).join(', ')} (known: ${DEPLOY_EVENT_NAMES.join(', ')})` });
      else if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'is empty: name at least one event, or remove the sink' });
    }).transform((names) => names as DeployEventName[]),
  )
  .optional();

// Secret values are checked once resolved (they may come from the environment), not here.
const sinkShapes = {
  webhook: z.strictObject({ url: url('where the JSON is POSTed; the signature authenticates it'), secret: z.string().optional(), events }),
  ntfy: z.strictObject({ url: url('the topic URL', { path: 'required' }), token: z.string().optional(), events }),
  slack: z.strictObject({ url: z.string().optional(), events }),
};

const timeoutsShape = {
  attemptTimeoutMs: timeout(DEFAULT_ATTEMPT_TIMEOUT_MS),
  deliveryTimeoutMs: timeout(DEFAULT_DELIVERY_TIMEOUT_MS),
};

/**
 * The notifications section of the stack config (trapperkeeper:notifications). A sink is on when
 * its URL is set. Every deployment event also stays in the structured log, whatever is set here.
 *
 * attemptTimeoutMs: one HTTP attempt is cut after this long. @default 5000
 * deliveryTimeoutMs: one notification, retries with backoff included, gives up after this long; the most a dead sink adds to a release. @default 15000
 * webhook.url: POST a JSON notification here, signed (x-tk-signature) with webhook.secret. @default unset (off)
 * webhook.secret: secret, or TK_NOTIFY_WEBHOOK_SECRET; at least 32 characters. Required with webhook.url.
 * webhook.events: list, or comma-separated. @default release.started, snapshot.taken, migrated, promoted, release.succeeded, release.failed, rolled-back
 * ntfy.url: the ntfy topic URL (priority and tags follow the event). @default unset (off)
 * ntfy.token: secret, or TK_NOTIFY_NTFY_TOKEN: an ntfy access token, for a protected topic. @default unset
 * ntfy.events: @default release.succeeded, release.failed, rolled-back
 * slack.url: secret, or TK_NOTIFY_SLACK_URL: a Slack (or compatible) incoming-webhook URL. @default unset (off)
 * slack.events: @default release.started, release.succeeded, release.failed, rolled-back
 */
export const notificationsSectionSchema = z.strictObject({
  ...timeoutsShape,
  webhook: sinkShapes.webhook.optional(),
  ntfy: sinkShapes.ntfy.optional(),
  slack: sinkShapes.slack.optional(),
});

/** Example values of every notifications key, for the fix of a problem with it. */
export const NOTIFICATIONS_CONFIG_EXAMPLES: ConfigExamples = {
  'notifications.attemptTimeoutMs': String(DEFAULT_ATTEMPT_TIMEOUT_MS),
  'notifications.deliveryTimeoutMs': String(DEFAULT_DELIVERY_TIMEOUT_MS),
  'notifications.webhook.url': 'https://ops.example.com/hooks/trapperkeeper',
  'notifications.webhook.secret': NOTIFICATION_SECRETS['notifications.webhook.secret'].example,
  'notifications.webhook.events': DEFAULT_SINK_EVENTS.webhook.join(','),
  'notifications.ntfy.url': 'https://ntfy.sh/trapperkeeper-prod-3f9c2a',
  'notifications.ntfy.token': NOTIFICATION_SECRETS['notifications.ntfy.token'].example,
  'notifications.ntfy.events': DEFAULT_SINK_EVENTS.ntfy.join(','),
  'notifications.slack.url': NOTIFICATION_SECRETS['notifications.slack.url'].example,
  'notifications.slack.events': DEFAULT_SINK_EVENTS.slack.join(','),
};

/** What the Pulumi program hands the release command. */
export interface StackNotifications {
  /** The sinks that are on (names only: safe to show). */
  sinks: SinkName[];
  /** TK_NOTIFY of the release command (URLs and secrets, JSON) as a Pulumi secret; undefined when no sink is on. */
  env: pulumi.Output<string> | undefined;
}

export interface NotificationSources {
  /** The decoded `notifications` value of the stack config (anything: it is checked here). */
  raw: unknown;
  /** True when the whole `notifications` key is stored in plain text (Pulumi marks only the top key secret). */
  storedInPlaintext: boolean;
  processEnv: SecretSources['processEnv'];
  envFile: SecretSources['envFile'];
}

function field(raw: unknown, key: string): unknown {
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>)[key] : undefined;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/**
 * Resolves the sinks that are on, with their secrets from the config, the environment or
 * `.env.<stack>`, and reports what keeps one from working: a secret missing, too weak or stored in
 * plain text, a Slack URL that is not one. Problems of the section's shape are the schema's
 * (reported by parseStackConfig); a sink whose own keys are wrong is skipped here.
 */
export function resolveNotifications(sources: NotificationSources, stack: string): { value?: StackNotifications; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const settings: NotifySettingsInput = { attemptTimeoutMs: DEFAULT_ATTEMPT_TIMEOUT_MS, deliveryTimeoutMs: DEFAULT_DELIVERY_TIMEOUT_MS };
  const timeouts = validFields({ shape: timeoutsShape }, sources.raw);
  if (timeouts.attemptTimeoutMs !== undefined) settings.attemptTimeoutMs = timeouts.attemptTimeoutMs;
  if (timeouts.deliveryTimeoutMs !== undefined) settings.deliveryTimeoutMs = timeouts.deliveryTimeoutMs;

  /** A secret's value from the first source that has it; a problem when it sits in plain text in the stack file. */
  const secret = (path: SecretPath, fromConfig: unknown): string | undefined => {
    const { envName } = NOTIFICATION_SECRETS[path];
    const configured = nonEmpty(fromConfig);
    if (configured !== undefined && sources.storedInPlaintext) {
      problems.push({
        path,
        problem: `is stored in plain text in Pulumi.${stack}.yaml`,
        fix: `${configSetCommand(path, NOTIFICATION_SECRETS[path].example, { secret: true })}  # a new value: the old one is in your history`,
      });
    }
    return configured ?? nonEmpty(sources.processEnv[envName]) ?? nonEmpty(sources.envFile.values[envName]);
  };
  const missing = (path: SecretPath): ConfigProblem => {
    const { envName, example } = NOTIFICATION_SECRETS[path];
    return {
      path,
      problem: `is not set (checked the stack config, $${envName} and .env.${stack})`,
      fix: `${configSetCommand(path, example, { secret: true })}  # or ${envName}=... in .env.${stack}`,
    };
  };
  /** A sink's raw keys, and its section when all of it is valid (else the schema reports what is not). */
  const sectionOf = <Name extends SinkName>(name: Name) => {
    const raw = field(sources.raw, name);
    const parsed = sinkShapes[name].safeParse(raw ?? {});
    return { raw, value: parsed.success ? (parsed.data as z.output<(typeof sinkShapes)[Name]>) : undefined };
  };
  // Secrets are resolved from the raw keys, so a wrong sibling key does not hide a secret's problem.

  const webhook = sectionOf('webhook');
  const webhookSecret = secret('notifications.webhook.secret', field(webhook.raw, 'secret'));
  if (field(webhook.raw, 'url') !== undefined) {
    if (webhookSecret === undefined) problems.push(missing('notifications.webhook.secret'));
    else if (webhookSecret.length < MIN_WEBHOOK_SECRET_LENGTH) {
      problems.push({
        path: 'notifications.webhook.secret',
        problem: `must be at least ${MIN_WEBHOOK_SECRET_LENGTH} characters (it is the HMAC key receivers verify with)`,
        fix: configSetCommand('notifications.webhook.secret', NOTIFICATION_SECRETS['notifications.webhook.secret'].example, { secret: true }),
      });
    } else if (webhook.value) settings.webhook = { url: webhook.value.url, secret: webhookSecret, events: webhook.value.events ?? [...DEFAULT_SINK_EVENTS.webhook] };
  }

  const ntfy = sectionOf('ntfy');
  const token = secret('notifications.ntfy.token', field(ntfy.raw, 'token'));
  if (ntfy.value) settings.ntfy = { url: ntfy.value.url, ...(token !== undefined ? { token } : {}), events: ntfy.value.events ?? [...DEFAULT_SINK_EVENTS.ntfy] };

  const slack = sectionOf('slack');
  const slackUrl = secret('notifications.slack.url', field(slack.raw, 'url'));
  const wrongSlackUrl = slackUrl === undefined ? undefined : urlProblem(slackUrl);
  if (slackUrl === undefined) {
    if (slack.raw !== undefined) problems.push(missing('notifications.slack.url'));
  } else if (wrongSlackUrl) {
    problems.push({
      path: 'notifications.slack.url',
      problem: `${wrongSlackUrl} (a Slack-compatible incoming-webhook URL; set in the config, $${NOTIFICATION_SECRETS['notifications.slack.url'].envName} or .env.${stack})`,
      fix: configSetCommand('notifications.slack.url', NOTIFICATION_SECRETS['notifications.slack.url'].example, { secret: true }),
    });
  } else if (slack.value) settings.slack = { url: slackUrl, events: slack.value.events ?? [...DEFAULT_SINK_EVENTS.slack] };

  if (problems.length > 0) return { problems };
  const sinks = enabledSinks(settings);
  // The release process parses TK_NOTIFY with this schema: what the program hands over must pass it.
  const settled = notifySettingsSchema.parse(settings);
  return { value: { sinks, env: sinks.length > 0 ? pulumi.secret(JSON.stringify(settled)) : undefined }, problems };
}

/** Whether Pulumi holds the `notifications` key in plain text (then none of its values is a secret). */
export function notificationsStoredInPlaintext(config: Readonly<Record<string, string>>, secretConfigKeys: ReadonlySet<string> | undefined): boolean {
  const key = `${CONFIG_NAMESPACE}:notifications`;
  return secretConfigKeys !== undefined && key in config && !secretConfigKeys.has(key);
}

