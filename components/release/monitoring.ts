import type { DeployEvents } from '../events/deploy-events.js';
import { parseDeployMetrics, recordReleaseFailed, recordReleaseLive, renderDeployMetrics, type DeployMetricsState } from '../monitoring/deploy-metrics.js';
import type { ReleasePlan } from './plan.js';
import type { ReleaseBackend, ScrapedSlot } from './ports.js';

/**
 * What the release pipeline tells the stack's monitoring (ports.ts MonitoringPort): which slots
 * Prometheus scrapes, and the outcome of every release as deploy metrics. Monitoring watches the
 * release; it never decides it: when the backend has no monitoring nothing happens, and a failure
 * here is a `monitoring.failed` warning while the release carries on.
 */
async function bestEffort(events: DeployEvents, what: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    events.emit('monitoring.failed', { what, error: (error as Error).message }, 'warn');
  }
}

/** Points Prometheus at `slots` (the live one, and the candidate while a release starts it). */
export async function scrapeSlots(backend: ReleaseBackend, events: DeployEvents, slots: readonly ScrapedSlot[]): Promise<void> {
  const monitoring = backend.monitoring;
  if (!monitoring) return;
  await bestEffort(events, 'scrape targets', () => monitoring.scrape(slots));
}

async function updateDeployMetrics(backend: ReleaseBackend, events: DeployEvents, stack: string, update: (state: DeployMetricsState) => DeployMetricsState): Promise<void> {
  const monitoring = backend.monitoring;
  if (!monitoring) return;
  await bestEffort(events, 'deploy metrics', async () => {
    const state = parseDeployMetrics(await monitoring.readDeployMetrics(), stack);
    await monitoring.writeDeployMetrics(renderDeployMetrics(update(state)));
  });
}

/** A release (or a rollback) went live in `slot` and passed verification. */
export function recordLive(
  backend: ReleaseBackend,
  events: DeployEvents,
  live: { plan: ReleasePlan; slot: string; phasesMs: Record<string, number>; at: Date; rollback: boolean },
): Promise<void> {
  const { image } = live.plan;
  return updateDeployMetrics(backend, events, live.plan.stack, (state) =>
    recordReleaseLive(state, {
      release: image.releaseId,
      version: image.version,
      commit: image.commit,
      slot: live.slot,
      phasesMs: live.phasesMs,
      at: live.at,
      rollback: live.rollback,
    }),
  );
}

/**
 * A release failed in `failedPhase` (the phase clock's first failure; else the last phase that
 * ran). `restoredRelease`: the switch had happened and the previous routing went back to it.
 */
export function recordFailed(
  backend: ReleaseBackend,
  events: DeployEvents,
  failed: { stack: string; release: string; phasesMs: Record<string, number>; failedPhase: string | undefined; at: Date; restoredRelease?: string },
): Promise<void> {
  // recordReleaseFailed counts the last phase as the failing one: put it last.
  const { [failed.failedPhase ?? '']: failedMs, ...others } = failed.phasesMs;
  const phasesMs = failed.failedPhase !== undefined && failedMs !== undefined ? { ...others, [failed.failedPhase]: failedMs } : failed.phasesMs;
  return updateDeployMetrics(backend, events, failed.stack, (state) =>
    recordReleaseFailed(state, {
      release: failed.release,
      phasesMs,
      at: failed.at,
      ...(failed.restoredRelease !== undefined ? { restoredRelease: failed.restoredRelease } : {}),
    }),
  );
}
