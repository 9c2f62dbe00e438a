import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { DeployEventName, DeployEventRecord, DeployEvents } from '../events/deploy-events.js';
import { deliver, type SinkRequest } from './deliver.js';
import { notificationOf, type DeploymentContext, type Notification } from './notification.js';
import { ntfyRequest } from './ntfy.js';
import { NOTIFY_ENV, SINK_NAMES, notifySettingsFromEnv, type NotifySettings, type SinkName } from './settings.js';
import { slackRequest } from './slack.js';
import { webhookRequest } from './webhook.js';

/** Time flush() allows beyond the delivery timeout for the last attempts to settle. */
const FLUSH_GRACE_MS = 1_000;

export interface FlushReport {
  delivered: number;
  /** Gave up: a 4xx, or every attempt failed until the delivery timeout. */
  failed: number;
  /** Still running when flush() stopped waiting (should not happen: deliveries end by their deadline). */
  abandoned: number;
}

export interface Notifications {
  /** One id per release process run, in every notification it sends. */
  readonly deploymentId: string;
  readonly sinks: readonly SinkName[];
  /** Sends one event to every sink that wants it, in the background; returns at once and never throws. */
  send(record: DeployEventRecord): void;
  /**
   * Waits for the notifications still being sent, at most the delivery timeout (plus a second),
   * then abandons the rest. Never throws. Call it once, before the process exits; later events are not sent.
   */
  flush(): Promise<FlushReport>;
}

export interface NotificationsOptions {
  settings: NotifySettings;
  stack: string;
  /** The release this run deploys or rolls back to. */
  release: string;
  /** Where an undelivered notification is reported (sink and reason, never its URL). */
  logger: Logger;
  deploymentId?: string;
}

interface Sink {
  name: SinkName;
  url: string;
  events: ReadonlySet<DeployEventName>;
  request(notification: Notification): SinkRequest;
}

function sinksOf(settings: NotifySettings): Sink[] {
  const sinks: Sink[] = [];
  const { webhook, ntfy, slack } = settings;
  if (webhook) sinks.push({ name: 'webhook', url: webhook.url, events: new Set(webhook.events), request: (n) => webhookRequest(n, webhook.secret, new Date()) });
  if (ntfy) sinks.push({ name: 'ntfy', url: ntfy.url, events: new Set(ntfy.events), request: (n) => ntfyRequest(n, ntfy.token) });
  if (slack) sinks.push({ name: 'slack', url: slack.url, events: new Set(slack.events), request: (n) => slackRequest(n) });
  return sinks.sort((a, b) => SINK_NAMES.indexOf(a.name) - SINK_NAMES.indexOf(b.name));
}

/**
 * The notification sinks of one release process. Each event goes to the sinks that want it at
 * once, concurrently, so a slow sink delays neither the release nor another sink; each delivery
 * retries with backoff until its own deadline (`deliveryTimeoutMs` after the event).
 */
export function createNotifications(options: NotificationsOptions): Notifications {
  const { settings, logger } = options;
  const context: DeploymentContext = { deploymentId: options.deploymentId ?? randomUUID(), stack: options.stack, release: options.release };
  const sinks = sinksOf(settings);
  const exiting = new AbortController();
  const pending = new Set<Promise<void>>();
  const report: FlushReport = { delivered: 0, failed: 0, abandoned: 0 };
  let sequence = 0;
  let closed = false;

  const start = (sink: Sink, notification: Notification) => {
    const delivery = deliver(sink.url, () => sink.request(notification), {
      attemptTimeoutMs: settings.attemptTimeoutMs,
      deadline: Date.now() + settings.deliveryTimeoutMs,
      signal: exiting.signal,
    }).then(
      (result) => {
        if (result.delivered) {
          report.delivered += 1;
          logger.debug({ sink: sink.name, notification: notification.event, attempts: result.attempts }, `${sink.name} notification delivered`);
          return;
        }
        if (exiting.signal.aborted) report.abandoned += 1;
        else report.failed += 1;
        const attempts = result.attempts === 1 ? '1 attempt' : `${result.attempts} attempts`;
        logger.warn(
          { sink: sink.name, notification: notification.event, attempts: result.attempts, reason: `${result.reason ?? 'not delivered'} after ${attempts}` },
          `${sink.name} notification of ${notification.event} not delivered`,
        );
      },
      () => {
        report.failed += 1;
      },
    );
    pending.add(delivery);
    void delivery.finally(() => pending.delete(delivery));
  };

  return {
    deploymentId: context.deploymentId,
    sinks: sinks.map((sink) => sink.name),
    send(record) {
      if (closed) return;
      // A release that found its release already live changed nothing: `pulumi up` with the same
      // pin, or the up that records a `tkctl rollback` whose traffic already moved (announced then).
      if (record.event === 'release.succeeded' && record.fields.unchanged === true) return;
      // A rollback runs as a release of kind rollback: `rolled-back` in a sink's events asks for
      // its success by that name.
      const rolledBack = record.event === 'release.succeeded' && record.fields.kind === 'rollback';
      const wanted = sinks.filter((sink) => sink.events.has(record.event) || (rolledBack && sink.events.has('rolled-back')));
      if (wanted.length === 0) return;
      sequence += 1;
      const notification = notificationOf(record, context, sequence);
      for (const sink of wanted) start(sink, notification);
    },
    async flush() {
      closed = true;
      if (pending.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        const cap = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, settings.deliveryTimeoutMs + FLUSH_GRACE_MS);
        });
        await Promise.race([Promise.allSettled([...pending]), cap]);
        clearTimeout(timer);
        if (pending.size > 0) {
          exiting.abort();
          await Promise.allSettled([...pending]);
        }
      }
      return { ...report };
    },
  };
}

const NO_NOTIFICATIONS: Notifications = {
  deploymentId: '',
  sinks: [],
  send() {},
  flush: async () => ({ delivered: 0, failed: 0, abandoned: 0 }),
};

/**
 * What the release process calls first: the sinks of TK_NOTIFY (none when it is unset),
 * subscribed to the release's event stream. Await `flush()` before the process exits.
 * A malformed TK_NOTIFY is a DeployError (it is set by `pulumi up`, never by hand).
 *
 * @example
 * const notifications = startNotifications(events, { stack: spec.stack, release: spec.image.releaseId });
 * try { await runRelease(spec, { engine, events }); } finally { await notifications.flush(); }
 */
export function startNotifications(
  events: DeployEvents,
  context: { stack: string; release: string },
  env: Readonly<Record<string, string | undefined>> = process.env,
): Notifications {
  const settings = notifySettingsFromEnv(env);
  if (!settings) return NO_NOTIFICATIONS;
  const notifications = createNotifications({ settings, ...context, logger: events.logger });
  events.subscribe((record) => notifications.send(record));
  events.logger.debug({ sinks: notifications.sinks, deploymentId: notifications.deploymentId }, `notifications on (${NOTIFY_ENV})`);
  return notifications;
}
