import { DeployError } from '../errors.js';
import type { DeployEvents } from '../events/deploy-events.js';
import type { HealthCheck } from '../health-gate/checks.js';
import type { GateThresholds } from '../health-gate/gate-state.js';
import { runHealthGate, type GateReport } from '../health-gate/run-health-gate.js';
import { decideAfterVerification, type VerificationResult } from '../verify/decide.js';
import { verificationThresholds } from '../verify/thresholds.js';
import { allSettledOrThrow, type PhaseClock } from './phases.js';
import type { ReleasePlan, Slot } from './plan.js';
import type { CheckSet, DrainReport, ReleaseBackend, RoutedRelease, SwitchResult } from './ports.js';

/** One release made live: the slot it goes into and how it gets there. */
export interface Promotion {
  plan: ReleasePlan;
  slot: Slot;
  /** What serves when the promotion starts (read under the deploy lock). */
  live: RoutedRelease | null;
  /** What the staging route reached then: after a switch, the previous release (a rollback's target). */
  staged: RoutedRelease | null;
  /** `fresh`: start the slot with this release; `parked`: resume the slot that holds it. */
  from: 'fresh' | 'parked';
  /**
   * The parked slot never stopped (a rollback to the previous release on `running` standby): it
   * served users until the last switch and has run since, so one pass of every check shows it
   * still answers for its release; a slot that (re)starts must stay healthy for the gate's whole
   * streak. The public verification after the switch asks for the full streak either way.
   */
  warm?: boolean;
  /** Values of plan.secretEnv, for a fresh start. */
  secrets: Record<string, string | undefined>;
}

export interface PromotionResult {
  switched: SwitchResult;
  drained: DrainReport | null;
}

async function withCheckSet<T>(open: Promise<CheckSet>, work: (checks: HealthCheck[]) => Promise<T>): Promise<T> {
  const set = await open;
  try {
    return await work(set.checks);
  } finally {
    await set.close();
  }
}

/**
 * A slot that failed before or after the switch must not be taken for a rollback target: a
 * fresh one goes, a parked one goes back to being parked, as it was before the attempt.
 */
async function standDown(backend: ReleaseBackend, promotion: Promotion): Promise<void> {
  try {
    if (promotion.from === 'fresh') await backend.slots.remove(promotion.slot);
    else await backend.slots.park(promotion.slot, promotion.plan.standby);
  } catch {
    // The failure being reported matters more; the next release replaces the slot anyway.
  }
}

/**
 * The health gate of `slot` running `plan`'s release, through the backend's staging route. `open`
 * is the check set when the caller opened it early (its probe starts while the slot does).
 */
export async function gateSlot(
  backend: ReleaseBackend,
  plan: ReleasePlan,
  slot: Slot,
  open = backend.gate.staging(plan, slot),
  options: { warm?: boolean } = {},
): Promise<GateReport> {
  return withCheckSet(open, (checks) =>
    runHealthGate(checks, {
      ...plan.gate,
      ...(options.warm ? { successes: 1 } : {}),
      subject: `The ${slot} slot (release ${plan.image.releaseId})`,
      fix: `${backend.gate.diagnose(slot)} (the live slot keeps serving; fix the cause and release again)`,
    }),
  );
}

/** Polls what users reach until it reports `plan`'s release (like the gate), or the time is up. */
export async function verifyPublic(backend: ReleaseBackend, plan: ReleasePlan, overrides: Partial<GateThresholds> = {}): Promise<VerificationResult> {
  const started = performance.now();
  try {
    const report = await withCheckSet(backend.gate.public(plan), (checks) =>
      runHealthGate(checks, { ...verificationThresholds(plan.gate, overrides), subject: `The public endpoint (${plan.endpoints.publicHttpUrl})`, fix: '' }),
    );
    return {
      verified: true,
      durationMs: Math.round(performance.now() - started),
      rounds: { count: report.state.rounds, roundsMs: report.roundDurationsMs, lastFailures: report.state.lastFailures },
    };
  } catch (error) {
    if (!(error instanceof DeployError)) throw error;
    return { verified: false, durationMs: Math.round(performance.now() - started), failure: error.message };
  }
}

/**
 * After a switch, users must reach the release through the public endpoint; when they do not,
 * the previous routing goes back and the promotion fails (an unverified switch is never kept).
 */
export async function verifyOrRestore(
  backend: ReleaseBackend,
  plan: ReleasePlan,
  switched: SwitchResult,
  overrides: Partial<GateThresholds> = {},
): Promise<VerificationResult> {
  const intended = switched.routing.live;
  if (!intended) throw new Error('a switch always routes users to a release');
  const result = await verifyPublic(backend, plan, overrides);
  const decision = decideAfterVerification(result, { intended, previous: switched.previous });
  if (decision.action === 'commit') return result;
  let restored: string;
  try {
    await backend.routing.restore(switched);
    restored = 'The previous routing is back.';
  } catch (error) {
    restored = `Restoring the previous routing failed too: ${(error as Error).message}`;
  }
  throw new DeployError(`${decision.reason}\n${restored}`, backend.gate.diagnose('router'));
}

/**
 * The one way a release becomes live, for a new release and a rollback alike: start (or resume)
 * the slot while the router stages it (unless it already does: a rollback to the previous release), health gate through the staging route, switch every user
 * at once, verify through the public endpoint (routing restored when it fails), then park the
 * slot that served before (kept running unrouted, or drained and stopped: `plan.standby`). A failure before the switch leaves the live slot serving; a
 * failed slot is removed (fresh) or parked again (resumed).
 */
export async function promote(backend: ReleaseBackend, promotion: Promotion, run: { clock: PhaseClock; events: DeployEvents; kind: string }): Promise<PromotionResult> {
  const { plan, slot, live } = promotion;
  const { clock, events, kind } = run;
  const release = plan.image.releaseId;
  const alreadyStaged = promotion.staged?.slot === slot && promotion.staged.releaseId === release;
  // The gate's probes (a container on Docker) and the router's staging route get ready while the
  // slot starts: neither needs the slot yet, and each takes seconds a rollback should not wait.
  const gateChecks = backend.gate.staging(plan, slot);
  gateChecks.catch(() => undefined);
  try {
    await allSettledOrThrow([
      gateChecks,
      clock.time('start-slot', () =>
        promotion.from === 'parked' ? backend.slots.resume(plan, slot) : backend.slots.start(plan, slot, promotion.secrets),
      ),
      alreadyStaged ? Promise.resolve() : clock.time('stage', () => backend.routing.stage(plan, slot, live)),
    ]);
  } catch (error) {
    await gateChecks.then((set) => set.close()).catch(() => undefined);
    await standDown(backend, promotion);
    throw error;
  }
  events.emit('slot.started', { kind, slot, release, from: promotion.from, durationMs: clock.phases['start-slot'] });

  let gate: GateReport;
  try {
    gate = await clock.time('health-gate', () => gateSlot(backend, plan, slot, gateChecks, { warm: promotion.warm === true }));
  } catch (error) {
    await standDown(backend, promotion);
    throw error;
  }
  events.emit('gate.passed', {
    kind,
    slot,
    release,
    warm: promotion.warm === true,
    durationMs: clock.phases['health-gate'],
    rounds: gate.state.rounds,
    roundsMs: gate.roundDurationsMs,
    lastFailures: gate.state.lastFailures,
  });

  const switched = await clock.time('switch', () => backend.routing.switchTo(plan, slot, live));
  let verification: VerificationResult;
  try {
    verification = await clock.time('verify', () => verifyOrRestore(backend, plan, switched));
  } catch (error) {
    await standDown(backend, promotion);
    throw error;
  }
  events.emit('promoted', {
    kind,
    slot,
    release,
    previous: switched.previous.live?.releaseId ?? null,
    durationMs: (clock.phases.switch ?? 0) + (clock.phases.verify ?? 0),
    ...(verification.verified && verification.rounds ? { verification: verification.rounds } : {}),
  });

  const old = switched.previous.live?.slot;
  let drained: DrainReport | null = null;
  if (old && old !== slot) {
    drained = await clock.time('drain', () => backend.slots.park(old, plan.standby));
    events.emit('drained', { kind, slot: drained.slot, clean: drained.clean, details: drained.details, durationMs: clock.phases.drain });
  }
  return { switched, drained };
}
