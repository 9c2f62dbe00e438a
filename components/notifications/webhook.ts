import type { SinkRequest } from './deliver.js';
import type { Notification } from './notification.js';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhook } from './signature.js';

export const USER_AGENT = 'trapperkeeper-deploy-notifications';

/**
 * The generic webhook's body: the notification as JSON.
 *
 * @example {"id":"…","event":"release.failed","level":"error","message":"release failed","deploymentId":"…","sequence":4,
 *           "stack":"prod","release":"0.3.0-3f2a9c1d-…","timestamp":"2026-12-02T10:15:02.123Z","metadata":{"error":"…","durationMs":61000}}
 */
export function webhookBody(notification: Notification): string {
  return JSON.stringify(notification);
}

/**
 * One attempt's request: the body, and a signature over `<now in unix seconds>.<body>` under the
 * webhook secret with that timestamp beside it, so a receiver can refuse a replayed delivery.
 */
export function webhookRequest(notification: Notification, secret: string, now: Date = new Date()): SinkRequest {
  const body = webhookBody(notification);
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      [EVENT_HEADER]: notification.event,
      [DELIVERY_HEADER]: notification.id,
      [TIMESTAMP_HEADER]: String(timestamp),
      [SIGNATURE_HEADER]: signWebhook(secret, timestamp, body),
    },
  };
}
