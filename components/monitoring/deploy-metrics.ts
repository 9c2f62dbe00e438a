/**
 * The release pipeline's metrics: what the deployments dashboard, its annotations and the
 * deployment alerts read. The pipeline runs on the deployer's machine and exits, so nothing is
 * there to be scraped; instead it writes these series as a text file into node-exporter's
 * textfile collector directory on the target (`--collector.textfile.directory`), which node-exporter
 * serves on every scrape. No Pushgateway to run, and the file on the target is the shared record
 * every maintainer's release reads and extends: read the file (`parseDeployMetrics`), apply the
 * outcome with `recordReleaseLive` / `recordReleaseFailed`, render it and replace the file
 * atomically (write `.<name>.tmp`, then rename: the collector skips names not ending in `.prom`).
 * Writing it once more when a release starts (unchanged, or `initialDeployMetrics` when there is
 * none) lets Prometheus see every counter before its first increment.
 *
 * Alerts read the timestamps (`last_*_timestamp_seconds`), not counter increases: a counter
 * that appears with its first increment already counted shows no `increase()`, while a
 * timestamp compares the same whether the series is new or old.
 */

/** The file's name inside the textfile collector directory. */
export const DEPLOY_METRICS_FILE = 'trapperkeeper_deploy.prom';

/**
 * The release's phases, as the pipeline's PhaseClock names them (components/release/pipeline.ts):
 * failure counters start at 0 for each, so every phase is a series before it first fails.
 */
export const DEPLOY_PHASES = [
  'lock',
  'read-live',
  'check-migrations',
  'snapshot',
  'migrate',
  'start-slot',
  'stage',
  'health-gate',
  'switch',
  'verify',
  'drain',
  'prune',
] as const;

/** A release goes live as itself, or as a rollback to a kept release (`release.rollbackTo`). */
export const PROMOTION_KINDS = ['release', 'rollback'] as const;
export type PromotionKind = (typeof PROMOTION_KINDS)[number];

/**
 * Why traffic went back to an earlier release: an operator pinned one (`requested`), or the
 * public endpoint did not serve the new release after the switch and the previous routing was
 * restored (`verify_failed`).
 */
export const ROLLBACK_REASONS = ['requested', 'verify_failed'] as const;
export type RollbackReason = (typeof ROLLBACK_REASONS)[number];

type MetricType = 'gauge' | 'counter';
interface DeployMetric {
  name: string;
  type: MetricType;
  help: string;
  labels: readonly string[];
}

/** Every series the pipeline publishes: name, type, help text (as written into the file) and labels. */
export const DEPLOY_METRICS = {
  releaseInfo: {
    name: 'trapperkeeper_deploy_release_info',
    type: 'gauge',
    help: 'The release serving now (value 1): its id, version, commit and slot.',
    labels: ['stack', 'release', 'version', 'commit', 'slot'],
  },
  promotions: {
    name: 'trapperkeeper_deploy_promotions_total',
    type: 'counter',
    help: 'Releases that went live and passed verification, by kind (release, rollback).',
    labels: ['stack', 'kind'],
  },
  failures: {
    name: 'trapperkeeper_deploy_failures_total',
    type: 'counter',
    help: 'Releases that failed, by the phase that failed; the previous release kept serving.',
    labels: ['stack', 'phase'],
  },
  rollbacks: {
    name: 'trapperkeeper_deploy_rollbacks_total',
    type: 'counter',
    help: 'Times traffic went back to an earlier release, by reason (requested, verify_failed).',
    labels: ['stack', 'reason'],
  },
  phaseDuration: {
    name: 'trapperkeeper_deploy_phase_duration_seconds',
    type: 'gauge',
    help: 'How long each phase of the last release attempt took.',
    labels: ['stack', 'phase'],
  },
  lastSuccess: {
    name: 'trapperkeeper_deploy_last_success_timestamp_seconds',
    type: 'gauge',
    help: 'When a release (or rollback) last went live, Unix seconds; 0 before the first.',
    labels: ['stack'],
  },
  lastFailure: {
    name: 'trapperkeeper_deploy_last_failure_timestamp_seconds',
    type: 'gauge',
    help: 'When a release last failed, Unix seconds; 0 before the first failure.',
    labels: ['stack'],
  },
  lastFailureInfo: {
    name: 'trapperkeeper_deploy_last_failure_info',
    type: 'gauge',
    help: 'The release that failed last and the phase it failed in (value 1).',
    labels: ['stack', 'release', 'phase'],
  },
  lastRollback: {
    name: 'trapperkeeper_deploy_last_rollback_timestamp_seconds',
    type: 'gauge',
    help: 'When traffic last went back to an earlier release, Unix seconds; 0 before the first.',
    labels: ['stack'],
  },
  lastRollbackInfo: {
    name: 'trapperkeeper_deploy_last_rollback_info',
    type: 'gauge',
    help: 'The last rollback (value 1): the release left, the release put back and why.',
    labels: ['stack', 'from_release', 'to_release', 'reason'],
  },
} as const satisfies Record<string, DeployMetric>;

export interface LiveRelease {
  release: string;
  version: string;
  commit: string;
  slot: string;
}

/** What the file records; `parseDeployMetrics(renderDeployMetrics(s))` gives `s` back. */
export interface DeployMetricsState {
  stack: string;
  live: LiveRelease | null;
  promotions: Record<PromotionKind, number>;
  /** By phase; every DEPLOY_PHASES entry is present, and any other phase that ever failed. */
  failures: Record<string, number>;
  rollbacks: Record<RollbackReason, number>;
  /** Seconds per phase of the last attempt, in the order they ran. */
  phaseSeconds: Record<string, number>;
  /** Unix seconds; 0 = never. */
  lastSuccessAt: number;
  lastFailure: { at: number; release: string; phase: string } | null;
  lastRollback: { at: number; fromRelease: string; toRelease: string; reason: RollbackReason } | null;
}

export function initialDeployMetrics(stack: string): DeployMetricsState {
  return {
    stack,
    live: null,
    promotions: { release: 0, rollback: 0 },
    failures: Object.fromEntries(DEPLOY_PHASES.map((phase) => [phase, 0])),
    rollbacks: { requested: 0, verify_failed: 0 },
    phaseSeconds: {},
    lastSuccessAt: 0,
    lastFailure: null,
    lastRollback: null,
  };
}

const unixSeconds = (at: Date) => at.getTime() / 1000;
const phaseSeconds = (phasesMs: Readonly<Record<string, number>>) =>
  Object.fromEntries(Object.entries(phasesMs).map(([phase, ms]) => [phase, ms / 1000]));

export interface ReleaseLive extends LiveRelease {
  /** The pipeline's phase durations in milliseconds (ReleaseOutcome.phases). */
  phasesMs: Readonly<Record<string, number>>;
  at: Date;
  /** The release went live as a rollback an operator asked for (`release.rollbackTo`). */
  rollback?: boolean;
}

/** A release (or a requested rollback) went live and the public endpoint serves it. */
export function recordReleaseLive(state: DeployMetricsState, outcome: ReleaseLive): DeployMetricsState {
  const at = unixSeconds(outcome.at);
  const kind: PromotionKind = outcome.rollback ? 'rollback' : 'release';
  const live: LiveRelease = { release: outcome.release, version: outcome.version, commit: outcome.commit, slot: outcome.slot };
  return {
    ...state,
    live,
    promotions: { ...state.promotions, [kind]: state.promotions[kind] + 1 },
    phaseSeconds: phaseSeconds(outcome.phasesMs),
    lastSuccessAt: at,
    ...(outcome.rollback
      ? {
          rollbacks: { ...state.rollbacks, requested: state.rollbacks.requested + 1 },
          lastRollback: { at, fromRelease: state.live?.release ?? '', toRelease: outcome.release, reason: 'requested' as const },
        }
      : {}),
  };
}

export interface ReleaseFailed {
  release: string;
  /** The phases that ran, in order, in milliseconds; the last one is the phase that failed. */
  phasesMs: Readonly<Record<string, number>>;
  at: Date;
  /**
   * Set when the switch had happened and verification failed, so the previous routing was
   * restored: the release traffic went back to.
   */
  restoredRelease?: string;
}

/** A release failed; the failing phase is the last one it ran. */
export function recordReleaseFailed(state: DeployMetricsState, outcome: ReleaseFailed): DeployMetricsState {
  const phases = Object.keys(outcome.phasesMs);
  const phase = phases[phases.length - 1] ?? 'lock';
  const at = unixSeconds(outcome.at);
  return {
    ...state,
    failures: { ...state.failures, [phase]: (state.failures[phase] ?? 0) + 1 },
    phaseSeconds: phaseSeconds(outcome.phasesMs),
    lastFailure: { at, release: outcome.release, phase },
    ...(outcome.restoredRelease !== undefined
      ? {
          rollbacks: { ...state.rollbacks, verify_failed: state.rollbacks.verify_failed + 1 },
          lastRollback: { at, fromRelease: outcome.release, toRelease: outcome.restoredRelease, reason: 'verify_failed' as const },
        }
      : {}),
  };
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function unescapeLabelValue(value: string): string {
  return value.replace(/\\(["\\n])/g, (_match, char: string) => (char === 'n' ? '\n' : char));
}

function sample(name: string, labels: Record<string, string>, value: number): string {
  const text = Object.entries(labels)
    .map(([label, labelValue]) => `${label}="${escapeLabelValue(labelValue)}"`)
    .join(',');
  return `${name}{${text}} ${value}`;
}

/** The state in Prometheus' text exposition format, as node-exporter's textfile collector reads it. */
export function renderDeployMetrics(state: DeployMetricsState): string {
  const { stack } = state;
  const lines: string[] = [];
  const family = (metric: DeployMetric, samples: string[]) => {
    lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} ${metric.type}`, ...samples);
  };
  const m = DEPLOY_METRICS;
  if (state.live) family(m.releaseInfo, [sample(m.releaseInfo.name, { stack, ...state.live }, 1)]);
  family(m.promotions, PROMOTION_KINDS.map((kind) => sample(m.promotions.name, { stack, kind }, state.promotions[kind])));
  family(m.failures, Object.entries(state.failures).map(([phase, count]) => sample(m.failures.name, { stack, phase }, count)));
  family(m.rollbacks, ROLLBACK_REASONS.map((reason) => sample(m.rollbacks.name, { stack, reason }, state.rollbacks[reason])));
  const phases = Object.entries(state.phaseSeconds);
  if (phases.length > 0) family(m.phaseDuration, phases.map(([phase, seconds]) => sample(m.phaseDuration.name, { stack, phase }, seconds)));
  family(m.lastSuccess, [sample(m.lastSuccess.name, { stack }, state.lastSuccessAt)]);
  family(m.lastFailure, [sample(m.lastFailure.name, { stack }, state.lastFailure?.at ?? 0)]);
  if (state.lastFailure) {
    const { release, phase } = state.lastFailure;
    family(m.lastFailureInfo, [sample(m.lastFailureInfo.name, { stack, release, phase }, 1)]);
  }
  family(m.lastRollback, [sample(m.lastRollback.name, { stack }, state.lastRollback?.at ?? 0)]);
  if (state.lastRollback) {
    const { fromRelease, toRelease, reason } = state.lastRollback;
    family(m.lastRollbackInfo, [sample(m.lastRollbackInfo.name, { stack, from_release: fromRelease, to_release: toRelease, reason }, 1)]);
  }
  return `${lines.join('\n')}\n`;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) throw new Error(`${DEPLOY_METRICS_FILE} line ${index + 1} is not a sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, label, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[label!] = unescapeLabelValue(value!);
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/**
 * Reads back a file `renderDeployMetrics` wrote (the state the next release extends). An empty
 * text is a stack that never released; series of other stacks are ignored.
 */
export function parseDeployMetrics(text: string, stack: string): DeployMetricsState {
  const state = initialDeployMetrics(stack);
  const m = DEPLOY_METRICS;
  let failureAt = 0;
  let failure: { release: string; phase: string } | undefined;
  let rollbackAt = 0;
  let rollback: { fromRelease: string; toRelease: string; reason: RollbackReason } | undefined;
  for (const { name, labels, value } of parseSamples(text)) {
    if (labels.stack !== stack) continue;
    const label = (key: string) => labels[key] ?? '';
    switch (name) {
      case m.releaseInfo.name:
        state.live = { release: label('release'), version: label('version'), commit: label('commit'), slot: label('slot') };
        break;
      case m.promotions.name:
        if (isOneOf(PROMOTION_KINDS, label('kind'))) state.promotions[label('kind') as PromotionKind] = value;
        break;
      case m.failures.name:
        if (label('phase')) state.failures[label('phase')] = value;
        break;
      case m.rollbacks.name:
        if (isOneOf(ROLLBACK_REASONS, label('reason'))) state.rollbacks[label('reason') as RollbackReason] = value;
        break;
      case m.phaseDuration.name:
        if (label('phase')) state.phaseSeconds[label('phase')] = value;
        break;
      case m.lastSuccess.name:
        state.lastSuccessAt = value;
        break;
      case m.lastFailure.name:
        failureAt = value;
        break;
      case m.lastFailureInfo.name:
        failure = { release: label('release'), phase: label('phase') };
        break;
      case m.lastRollback.name:
        rollbackAt = value;
        break;
      case m.lastRollbackInfo.name:
        rollback = {
          fromRelease: label('from_release'),
          toRelease: label('to_release'),
          reason: label('reason') === 'verify_failed' ? 'verify_failed' : 'requested',
        };
        break;
      default:
        break;
    }
  }
  if (failureAt > 0 && failure) state.lastFailure = { at: failureAt, ...failure };
  if (rollbackAt > 0 && rollback) state.lastRollback = { at: rollbackAt, ...rollback };
  return state;
}

function isOneOf(values: readonly string[], value: string): boolean {
  return values.includes(value);
}
