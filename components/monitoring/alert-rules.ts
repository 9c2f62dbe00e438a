import { stringify as toYaml } from 'yaml';
import { APP_JOBS_REGEX, APP_METRICS, EXPORTER_JOBS, GRPC_SERVER_ERROR_CODES, OPS_ROUTES_REGEX } from './app-metrics.js';
import { DEPLOY_METRICS } from './deploy-metrics.js';
import { DEFAULT_ALERT_THRESHOLDS, durationMs, type AlertThresholds } from './settings.js';

/** Every alert's name, as Alertmanager routes and inhibits it and the README explains it. */
export const ALERTS = {
  errorRateHigh: 'TrapperKeeperErrorRateHigh',
  databaseUnreachable: 'TrapperKeeperDatabaseUnreachable',
  instanceDown: 'TrapperKeeperInstanceDown',
  ingestionStalled: 'TrapperKeeperIngestionStalled',
  deploymentFailed: 'TrapperKeeperDeploymentFailed',
  deploymentRolledBack: 'TrapperKeeperDeploymentRolledBack',
  diskAlmostFull: 'HostDiskAlmostFull',
  memoryHigh: 'HostMemoryHigh',
  exporterDown: 'MonitoringExporterDown',
} as const;
export type AlertName = (typeof ALERTS)[keyof typeof ALERTS];

export const SEVERITIES = ['critical', 'warning'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * How long conditions must last. Production uses PRODUCTION_ALERT_TIMING; only tests that need
 * an alert within seconds pass shorter ones.
 */
export interface AlertTiming {
  /** The window of every rate() behind the error ratio. */
  rateWindow: string;
  errorRateFor: string;
  databaseUnreachableFor: string;
  instanceDownFor: string;
  exporterDownFor: string;
  diskFor: string;
  memoryFor: string;
  /** No event accepted for this long ... */
  ingestionStalledWindow: string;
  /** ... while events were accepted in this long before it. */
  ingestionBaselineWindow: string;
  /** A rollback alert stays this long after the rollback. */
  rollbackAlertWindow: string;
}

export const PRODUCTION_ALERT_TIMING: AlertTiming = {
  rateWindow: '5m',
  errorRateFor: '2m',
  databaseUnreachableFor: '1m',
  instanceDownFor: '1m',
  exporterDownFor: '5m',
  diskFor: '5m',
  memoryFor: '5m',
  ingestionStalledWindow: '15m',
  ingestionBaselineWindow: '1h',
  rollbackAlertWindow: '30m',
};

/**
 * What an annotation's text is written with: Prometheus template references when rendering the
 * rules, the expected values in the rule unit tests (so both come from the one text).
 */
export interface AnnotationValues {
  label(name: string): string;
  /** The alert's value, formatted as the alert declares (`valueFormat`). */
  value(): string;
  /** An external label of the Prometheus server (`stack`). */
  external(name: string): string;
}

export type ValueFormat = 'humanizePercentage' | 'humanizeDuration' | 'humanize';

export interface AlertDefinition {
  group: string;
  alert: AlertName;
  expr: string;
  /** Omitted (0) fires at the first evaluation that matches. */
  for?: string;
  severity: Severity;
  valueFormat: ValueFormat;
  summary(values: AnnotationValues): string;
  description(values: AnnotationValues): string;
}

export interface RecordingRule {
  group: string;
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

/** Recorded series the error-rate alert divides (names carry their rate window). */
export function recordedRateNames(timing: Pick<AlertTiming, 'rateWindow'>) {
  return {
    requests: `job:trapperkeeper_requests:rate${timing.rateWindow}`,
    errors: `job:trapperkeeper_request_errors:rate${timing.rateWindow}`,
  };
}

export function recordingRules(timing: AlertTiming = PRODUCTION_ALERT_TIMING): RecordingRule[] {
  const names = recordedRateNames(timing);
  const window = timing.rateWindow;
  const http = `${APP_METRICS.httpRequests}{route!~"${OPS_ROUTES_REGEX}"`;
  const group = 'trapperkeeper-requests';
  // One recorded name per meaning, with a protocol label: HTTP 5xx and gRPC server codes add up
  // to one error ratio per service, and either may have no series yet.
  return [
    { group, record: names.requests, expr: `sum by (job) (rate(${http}}[${window}]))`, labels: { protocol: 'http' } },
    { group, record: names.requests, expr: `sum by (job) (rate(${APP_METRICS.grpcRequests}[${window}]))`, labels: { protocol: 'grpc' } },
    { group, record: names.errors, expr: `sum by (job) (rate(${http},code=~"5.."}[${window}]))`, labels: { protocol: 'http' } },
    {
      group,
      record: names.errors,
      expr: `sum by (job) (rate(${APP_METRICS.grpcRequests}{code=~"${GRPC_SERVER_ERROR_CODES.join('|')}"}[${window}]))`,
      labels: { protocol: 'grpc' },
    },
  ];
}

const FILESYSTEMS_IGNORED = 'tmpfs|ramfs|overlay|squashfs|nsfs|iso9660|fuse.*';
const STATUS_COMMAND = (v: AnnotationValues) => `tkctl status --stack ${v.external('stack')}`;

/** The alerts, from the thresholds (stack config) and the timing. */
export function alertDefinitions(
  thresholds: AlertThresholds = DEFAULT_ALERT_THRESHOLDS,
  timing: AlertTiming = PRODUCTION_ALERT_TIMING,
): AlertDefinition[] {
  const rates = recordedRateNames(timing);
  const d = DEPLOY_METRICS;
  const filesystem = `{job="${EXPORTER_JOBS.node}",fstype!~"${FILESYSTEMS_IGNORED}"}`;
  return [
    {
      group: 'trapperkeeper-app',
      alert: ALERTS.errorRateHigh,
      expr: `sum by (job) (${rates.errors}) / sum by (job) (${rates.requests}) > ${thresholds.errorRatio}`,
      for: timing.errorRateFor,
      severity: 'critical',
      valueFormat: 'humanizePercentage',
      summary: (v) => `${v.label('job')}: ${v.value()} of requests fail with server errors`,
      description: (v) =>
        `More than ${percent(thresholds.errorRatio)} of ${v.label('job')}'s requests (HTTP 5xx, gRPC ${GRPC_SERVER_ERROR_CODES.join('/')}; health and metrics endpoints not counted) ` +
        `failed for ${timing.errorRateFor}. Look at the failing routes and methods on the Application health dashboard and at the instances' logs. ` +
        `If it began with the last release, put the previous one back: run the line \`pulumi stack output rollbackCommand -s ${v.external('stack')}\` prints. ` +
        `${STATUS_COMMAND(v)} shows which release serves.`,
    },
    {
      group: 'trapperkeeper-app',
      alert: ALERTS.instanceDown,
      expr: `up{job=~"${APP_JOBS_REGEX}",role!="candidate"} == 0`,
      for: timing.instanceDownFor,
      severity: 'critical',
      valueFormat: 'humanize',
      summary: (v) => `${v.label('job')} instance ${v.label('instance')} does not answer /metrics`,
      description: (v) =>
        `Prometheus has not reached ${v.label('instance')} (${v.label('job')}) for ${timing.instanceDownFor}: the process stopped, hangs, or its container is gone. ` +
        `Check the container (docker ps -a; docker logs on it) and its /readyz. ${STATUS_COMMAND(v)} shows the live slot; ` +
        `\`pulumi up -s ${v.external('stack')}\` starts the live release again if its containers are missing.`,
    },
    {
      group: 'trapperkeeper-app',
      alert: ALERTS.ingestionStalled,
      expr:
        `sum by (job) (increase(${APP_METRICS.eventsAccepted}[${timing.ingestionStalledWindow}])) == 0 ` +
        `and on (job) sum by (job) (increase(${APP_METRICS.eventsAccepted}[${timing.ingestionBaselineWindow}] offset ${timing.ingestionStalledWindow})) > 0`,
      severity: 'warning',
      valueFormat: 'humanize',
      summary: () => `No events ingested for ${timing.ingestionStalledWindow}`,
      description: () =>
        `The sensor API accepted no event in the last ${timing.ingestionStalledWindow}, after accepting events in the ${timing.ingestionBaselineWindow} before. ` +
        `Check the ReportEvents calls and their codes on the Application health dashboard (UNAUTHENTICATED or PERMISSION_DENIED: sensors' API keys are wrong or revoked, see \`trapperkeeper api-keys list\`; ` +
        `UNAVAILABLE: the database), whether sensors reach the public gRPC address at all, and the sensor API's logs. If the sensors are quiet on purpose, silence this alert in Alertmanager.`,
    },
    {
      group: 'trapperkeeper-database',
      alert: ALERTS.databaseUnreachable,
      expr: `pg_up == 0`,
      for: timing.databaseUnreachableFor,
      severity: 'critical',
      valueFormat: 'humanize',
      summary: () => `PostgreSQL unreachable for ${timing.databaseUnreachableFor}`,
      description: (v) =>
        `postgres_exporter (${v.label('instance')}) could not connect to PostgreSQL for ${timing.databaseUnreachableFor}. The app's /readyz answers 503, ` +
        `web pages fail with 500 and sensor calls with UNAVAILABLE (their error-rate alert is held back while this one fires). ` +
        `Check the database container (docker ps -a; docker logs on it), free disk space (HostDiskAlmostFull) and its memory; restart it with \`pulumi up -s ${v.external('stack')}\`. ` +
        `Its data is on its volume; ${STATUS_COMMAND(v)} names the latest snapshot.`,
    },
    {
      group: 'trapperkeeper-deployments',
      alert: ALERTS.deploymentFailed,
      expr:
        `(${d.lastFailure.name} > on (stack) ${d.lastSuccess.name}) ` +
        `* on (stack) group_left (release, phase) ${d.lastFailureInfo.name}`,
      severity: 'warning',
      valueFormat: 'humanize',
      summary: (v) => `Release ${v.label('release')} of stack ${v.label('stack')} failed in phase ${v.label('phase')}`,
      description: (v) =>
        `The last release attempt failed in phase ${v.label('phase')} and nothing was released since; the release before it still serves ` +
        `(a failure before the switch leaves traffic untouched; a failed verification puts the previous routing back). ` +
        `The \`pulumi up\` output and .trapperkeeper/events/${v.label('stack')}.jsonl on the machine that ran it say what failed and how to fix it; ` +
        `fix it and run \`pulumi up -s ${v.label('stack')}\` again. ${STATUS_COMMAND(v)} shows what serves. Resolves when a release goes live.`,
    },
    {
      group: 'trapperkeeper-deployments',
      alert: ALERTS.deploymentRolledBack,
      expr:
        `(time() - ${d.lastRollback.name} < ${durationMs(timing.rollbackAlertWindow) / 1000} and ${d.lastRollback.name} > 0) ` +
        `* on (stack) group_left (from_release, to_release, reason) ${d.lastRollbackInfo.name}`,
      severity: 'warning',
      valueFormat: 'humanizeDuration',
      summary: (v) => `Stack ${v.label('stack')} rolled back from ${v.label('from_release')} to ${v.label('to_release')} (${v.label('reason')})`,
      description: (v) =>
        `Traffic went back to release ${v.label('to_release')} ${v.value()} ago (reason: ${v.label('reason')}). ` +
        `requested: release.rollbackTo pins that release; once the cause is fixed, remove the pin (\`pulumi config rm --path release.rollbackTo -s ${v.label('stack')}\`) and run \`pulumi up\`. ` +
        `verify_failed: after the switch the public endpoint did not serve ${v.label('from_release')}, so the previous routing was restored; look at the proxy and at the new release's logs before releasing again. ` +
        `This alert clears ${timing.rollbackAlertWindow} after the rollback.`,
    },
    {
      group: 'trapperkeeper-host',
      alert: ALERTS.diskAlmostFull,
      expr: `1 - node_filesystem_avail_bytes${filesystem} / node_filesystem_size_bytes${filesystem} > ${thresholds.diskUsedRatio}`,
      for: timing.diskFor,
      severity: 'critical',
      valueFormat: 'humanizePercentage',
      summary: (v) => `Filesystem ${v.label('mountpoint')} is ${v.value()} full`,
      description: (v) =>
        `${v.label('mountpoint')} (${v.label('device')}) on ${v.label('instance')} has been more than ${percent(thresholds.diskUsedRatio)} full for ${timing.diskFor}; ` +
        `PostgreSQL stops when it cannot write. Free space: \`docker system df\` shows what Docker holds (old release images beyond release.keepReleases are pruned on every release; ` +
        `\`docker builder prune\` clears the build cache), snapshots older than snapshots.retentionDays go on the next release; or grow the disk.`,
    },
    {
      group: 'trapperkeeper-host',
      alert: ALERTS.memoryHigh,
      expr: `1 - node_memory_MemAvailable_bytes{job="${EXPORTER_JOBS.node}"} / node_memory_MemTotal_bytes{job="${EXPORTER_JOBS.node}"} > ${thresholds.memoryUsedRatio}`,
      for: timing.memoryFor,
      severity: 'warning',
      valueFormat: 'humanizePercentage',
      summary: (v) => `Host ${v.label('instance')} uses ${v.value()} of its memory`,
      description: (v) =>
        `More than ${percent(thresholds.memoryUsedRatio)} of ${v.label('instance')}'s memory has been in use for ${timing.memoryFor}; the kernel will soon kill processes. ` +
        `\`docker stats --no-stream\` shows which container uses it (the Infrastructure dashboard too). During a release both slots run; ` +
        `outside one, a parked slot is stopped. Lower sensor_api.ingest_workers or the pool size, or give the host more memory.`,
    },
    {
      group: 'monitoring',
      alert: ALERTS.exporterDown,
      expr: `up{job=~"${Object.values(EXPORTER_JOBS).join('|')}"} == 0`,
      for: timing.exporterDownFor,
      severity: 'warning',
      valueFormat: 'humanize',
      summary: (v) => `Exporter ${v.label('job')} at ${v.label('instance')} does not answer`,
      description: (v) =>
        `Prometheus has not scraped ${v.label('instance')} (${v.label('job')}) for ${timing.exporterDownFor}, so the alerts that read it ` +
        `(host disk and memory for node, database for postgres) cannot fire. Check its container (docker ps -a; docker logs on it) and run \`pulumi up -s ${v.external('stack')}\` to start it again.`,
    },
  ];
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 10_000) / 100}%`;
}

/** Prometheus template references: what the rule file holds. */
export function prometheusTemplating(format: ValueFormat): AnnotationValues {
  return {
    label: (name) => `{{ $labels.${name} }}`,
    value: () => `{{ $value | ${format} }}`,
    external: (name) => `{{ $externalLabels.${name} }}`,
  };
}

export interface AlertRulesOptions {
  thresholds?: AlertThresholds;
  timing?: AlertTiming;
}

/** The Prometheus rule file (YAML): recording rules, then the alerts, grouped. */
export function renderAlertRules(options: AlertRulesOptions = {}): string {
  const timing = options.timing ?? PRODUCTION_ALERT_TIMING;
  const groups = new Map<string, Record<string, unknown>[]>();
  const add = (group: string, rule: Record<string, unknown>) => groups.set(group, [...(groups.get(group) ?? []), rule]);
  for (const { group, ...rule } of recordingRules(timing)) add(group, rule);
  for (const alert of alertDefinitions(options.thresholds, timing)) {
    const templating = prometheusTemplating(alert.valueFormat);
    add(alert.group, {
      alert: alert.alert,
      expr: alert.expr,
      ...(alert.for ? { for: alert.for } : {}),
      labels: { severity: alert.severity },
      annotations: { summary: alert.summary(templating), description: alert.description(templating) },
    });
  }
  return toYaml({ groups: [...groups].map(([name, rules]) => ({ name, rules })) }, { lineWidth: 0 });
}
