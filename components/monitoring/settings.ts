import { isIP } from 'node:net';
import { z } from 'zod';
import { DEFAULT_MONITORING_IMAGES } from './images.js';

/** Defaults of the monitoring section, named so the schema, the docs and the tests agree. */
export const DEFAULT_RETENTION = '15d';
export const DEFAULT_SCRAPE_INTERVAL = '15s';
export const DEFAULT_EVALUATION_INTERVAL = '15s';
export const DEFAULT_ALERT_THRESHOLDS = {
  /** Share of requests answered with a server error (HTTP 5xx, gRPC server codes). */
  errorRatio: 0.05,
  /** Share of a filesystem in use. */
  diskUsedRatio: 0.9,
  /** Share of the host's memory in use (not available to new processes). */
  memoryUsedRatio: 0.85,
} as const;
/** Grafana, the one monitoring service published: on the host's loopback unless configured. */
export const DEFAULT_GRAFANA_PUBLISH = { port: 3000, bindAddress: '127.0.0.1' } as const;
/** Alertmanager's notification timing: its own defaults, spelled out. */
export const DEFAULT_NOTIFY_TIMING = { groupWait: '30s', groupInterval: '5m', repeatInterval: '4h' } as const;

// Prometheus' duration grammar (units largest first, each at most once), not empty.
const DURATION = /^(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?$/;

/** Milliseconds of a Prometheus duration such as `1h30m` (valid per `isPrometheusDuration`). */
export function durationMs(value: string): number {
  const units: Record<string, number> = { y: 365 * 86_400_000, w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+)(ms|y|w|d|h|m|s)/g)) total += Number(amount) * units[unit!]!;
  return total;
}

export function isPrometheusDuration(value: string): boolean {
  return value !== '' && DURATION.test(value) && durationMs(value) > 0;
}

const duration = (example: string) =>
  z.string().refine(isPrometheusDuration, { error: `must be a Prometheus duration such as ${example} (units y, w, d, h, m, s, ms, largest first)` });

const ratio = z
  .number({ error: (issue) => (issue.input === undefined ? undefined : 'must be a number between 0 and 1, e.g. 0.05 for 5%') })
  .gt(0, { error: 'must be above 0 (a share: 0.05 is 5%)' })
  .lt(1, { error: 'must be below 1 (a share: 0.9 is 90%)' });

const receiverUrl = (example: string) =>
  z.string().refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
      } catch {
        return false;
      }
    },
    { error: `must be an http:// or https:// URL, e.g. ${example}` },
  );

// An image reference as `docker pull` takes it: [registry[:port]/]path[:tag][@digest].
const imageReference = z
  .string()
  .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/, {
    error: 'must be an image reference such as prom/prometheus:v2.42.0 or registry.example.com/prometheus:v2',
  });

/**
 * The monitoring section of the stack config (trapperkeeper:monitoring), shared by every target.
 *
 * enabled: run Prometheus, Alertmanager, Grafana and the exporters beside the app. @default false
 * retention: how long Prometheus keeps samples (--storage.tsdb.retention.time). @default 15d
 * scrapeInterval: how often every target is scraped. @default 15s
 * evaluationInterval: how often alert rules are evaluated. @default 15s
 * alerts.errorRatio: share of server errors (HTTP 5xx, gRPC server codes) that fires TrapperKeeperErrorRateHigh. @default 0.05
 * alerts.diskUsedRatio: share of a filesystem in use that fires HostDiskAlmostFull. @default 0.9
 * alerts.memoryUsedRatio: share of the host's memory in use that fires HostMemoryHigh. @default 0.85
 * notify.webhookUrl: Alertmanager posts every notification here as JSON (its webhook format). @default unset
 * notify.ntfyUrl: an ntfy topic URL (https://ntfy.sh/<topic>); notifications arrive formatted (ntfy 2.10+ templates). @default unset
 * notify.groupWait / groupInterval / repeatInterval: Alertmanager's timing. @default 30s / 5m / 4h
 * grafana.port: host port Grafana is published on. @default 3000
 * grafana.bindAddress: host address Grafana is published on; 0.0.0.0 exposes it to the network. @default 127.0.0.1
 * images.prometheus / alertmanager / grafana / nodeExporter / postgresExporter: the images a container target runs. @default DEFAULT_MONITORING_IMAGES
 *
 * The Grafana admin password is a stack secret (grafanaAdminPassword), required when enabled.
 */
export const monitoringSectionSchema = z.strictObject({
  enabled: z.boolean().default(false),
  retention: duration('15d or 30d').default(DEFAULT_RETENTION),
  scrapeInterval: duration('15s').default(DEFAULT_SCRAPE_INTERVAL),
  evaluationInterval: duration('15s').default(DEFAULT_EVALUATION_INTERVAL),
  alerts: z
    .strictObject({
      errorRatio: ratio.default(DEFAULT_ALERT_THRESHOLDS.errorRatio),
      diskUsedRatio: ratio.default(DEFAULT_ALERT_THRESHOLDS.diskUsedRatio),
      memoryUsedRatio: ratio.default(DEFAULT_ALERT_THRESHOLDS.memoryUsedRatio),
    })
    .prefault({}),
  notify: z
    .strictObject({
      webhookUrl: receiverUrl('https://hooks.example.com/trapperkeeper').optional(),
      ntfyUrl: receiverUrl('https://ntfy.sh/tk-alerts-3f2a9c').optional(),
      groupWait: duration('30s').default(DEFAULT_NOTIFY_TIMING.groupWait),
      groupInterval: duration('5m').default(DEFAULT_NOTIFY_TIMING.groupInterval),
      repeatInterval: duration('4h').default(DEFAULT_NOTIFY_TIMING.repeatInterval),
    })
    .prefault({}),
  grafana: z
    .strictObject({
      port: z
        .int({ error: (issue) => (issue.input === undefined ? undefined : 'must be a whole number (a TCP port)') })
        .min(1, { error: 'must be a TCP port between 1 and 65535' })
        .max(65535, { error: 'must be a TCP port between 1 and 65535' })
        .default(DEFAULT_GRAFANA_PUBLISH.port),
      bindAddress: z
        .string()
        .refine((value) => isIP(value) !== 0, { error: 'must be an IP address such as 127.0.0.1 (this host only) or 0.0.0.0 (every interface)' })
        .default(DEFAULT_GRAFANA_PUBLISH.bindAddress),
    })
    .prefault({}),
  images: z
    .strictObject({
      prometheus: imageReference.default(DEFAULT_MONITORING_IMAGES.prometheus),
      alertmanager: imageReference.default(DEFAULT_MONITORING_IMAGES.alertmanager),
      grafana: imageReference.default(DEFAULT_MONITORING_IMAGES.grafana),
      nodeExporter: imageReference.default(DEFAULT_MONITORING_IMAGES.nodeExporter),
      postgresExporter: imageReference.default(DEFAULT_MONITORING_IMAGES.postgresExporter),
    })
    .prefault({}),
});

export type MonitoringSection = z.output<typeof monitoringSectionSchema>;
export type AlertThresholds = MonitoringSection['alerts'];
export type NotifySettings = MonitoringSection['notify'];

/** The section with every default: what a stack without monitoring keys gets. */
export const DEFAULT_MONITORING_SECTION: MonitoringSection = monitoringSectionSchema.parse({});

/** Example values of every key, for the fixes in config problems (`pulumi config set --path ...`). */
export const MONITORING_CONFIG_EXAMPLES: Readonly<Record<string, string>> = {
  'monitoring.enabled': 'true',
  'monitoring.retention': DEFAULT_RETENTION,
  'monitoring.scrapeInterval': DEFAULT_SCRAPE_INTERVAL,
  'monitoring.evaluationInterval': DEFAULT_EVALUATION_INTERVAL,
  'monitoring.alerts.errorRatio': String(DEFAULT_ALERT_THRESHOLDS.errorRatio),
  'monitoring.alerts.diskUsedRatio': String(DEFAULT_ALERT_THRESHOLDS.diskUsedRatio),
  'monitoring.alerts.memoryUsedRatio': String(DEFAULT_ALERT_THRESHOLDS.memoryUsedRatio),
  'monitoring.notify.webhookUrl': 'https://hooks.example.com/trapperkeeper',
  'monitoring.notify.ntfyUrl': 'https://ntfy.sh/tk-alerts-3f2a9c',
  'monitoring.notify.groupWait': DEFAULT_NOTIFY_TIMING.groupWait,
  'monitoring.notify.groupInterval': DEFAULT_NOTIFY_TIMING.groupInterval,
  'monitoring.notify.repeatInterval': DEFAULT_NOTIFY_TIMING.repeatInterval,
  'monitoring.grafana.port': String(DEFAULT_GRAFANA_PUBLISH.port),
  'monitoring.grafana.bindAddress': DEFAULT_GRAFANA_PUBLISH.bindAddress,
  'monitoring.images.prometheus': DEFAULT_MONITORING_IMAGES.prometheus,
  'monitoring.images.alertmanager': DEFAULT_MONITORING_IMAGES.alertmanager,
  'monitoring.images.grafana': DEFAULT_MONITORING_IMAGES.grafana,
  'monitoring.images.nodeExporter': DEFAULT_MONITORING_IMAGES.nodeExporter,
  'monitoring.images.postgresExporter': DEFAULT_MONITORING_IMAGES.postgresExporter,
};
