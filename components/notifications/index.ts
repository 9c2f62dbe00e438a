export { startNotifications, createNotifications, type Notifications, type FlushReport } from './notifier.js';
export {
  NOTIFY_ENV,
  SINK_NAMES,
  DEFAULT_SINK_EVENTS,
  DEFAULT_ATTEMPT_TIMEOUT_MS,
  DEFAULT_DELIVERY_TIMEOUT_MS,
  MIN_TIMEOUT_MS,
  MAX_DELIVERY_TIMEOUT_MS,
  enabledSinks,
  notifySettingsSchema,
  notifySettingsFromEnv,
  type NotifySettings,
  type NotifySettingsInput,
  type SinkName,
} from './settings.js';
export { verifyWebhookSignature, signWebhook, TIMESTAMP_HEADER, SIGNATURE_HEADER, DELIVERY_HEADER, EVENT_HEADER, DEFAULT_SIGNATURE_TOLERANCE_SECONDS, type SignatureCheck } from './signature.js';
export type { Notification } from './notification.js';
