/**
 * What a deployment target implements so the release pipeline (lock, snapshot before migrate,
 * gate, atomic switch, public verification, drain, prune, rollback) runs on it. Each port says
 * what the pipeline needs, not how: Docker parks containers and routes with Caddy, a
 * cloud target may keep a task definition and move a load balancer's weights instead.
 *
 * A backend is made for one stack (its plan's `target` section); the plan passed to a method is
 * the release being worked on (for a rollback, the older release's own plan).
 */
import type { DeployEvents } from '../events/deploy-events.js';
import type { HealthCheck } from '../health-gate/checks.js';
import type { LockHolder } from '../lock/lock-holder.js';
import type { PendingMigrations } from '../migrate/migration-status.js';
import type { ReleasePlan, Slot, StandbyMode } from './plan.js';

/** A slot and the release it runs, as the router sends traffic to it. */
export interface RoutedRelease {
  slot: Slot;
  releaseId: string;
}

/** Where traffic goes: users to `live`, the health gate's private route to `staging`. */
export interface ProxyRouting {
  live: RoutedRelease | null;
  staging: RoutedRelease | null;
}

export interface SwitchResult {
  /** The routing before the switch, put back when verification fails. */
  previous: ProxyRouting;
  routing: ProxyRouting;
  /** How long the switch itself took. */
  durationMs: number;
}

export interface HeldLock {
  readonly name: string;
  release(): Promise<void>;
}

export interface LockPort {
  /**
   * The stack's deploy lock; waits up to `waitMs` for another holder, then refuses (DeployError).
   * Emits `lock.acquired`, and `lock.released` when released.
   */
  acquire(holder: LockHolder, options: { waitMs: number; events: DeployEvents }): Promise<HeldLock>;
}

export interface RoutingPort {
  /** What serves now; also brings the router's own configuration up to date. */
  read(): Promise<ProxyRouting>;
  /** Points the private staging route at `slot` (running `plan`'s release); users stay on `live`. */
  stage(plan: ReleasePlan, slot: Slot, live: RoutedRelease | null): Promise<void>;
  /** Moves every user to `slot` at once; refuses when what serves is no longer `expectedLive`. */
  switchTo(plan: ReleasePlan, slot: Slot, expectedLive: RoutedRelease | null): Promise<SwitchResult>;
  /** Puts the routing a switch replaced back. */
  restore(switched: SwitchResult): Promise<void>;
}

/** A release a slot holds (running or parked), read from the target alone. */
export interface SlotRecord {
  slot: Slot;
  plan: ReleasePlan;
  /** When the slot was started with this release. */
  startedAt: Date;
  /** Whether its processes run (a live slot, or the previous release on `running` standby). */
  running: boolean;
}

/** How the old slot went quiet after a switch. */
export interface DrainReport {
  slot: Slot;
  /** Every instance finished its in-flight requests and stopped on its own. */
  clean: boolean;
  /** One line per instance for the event log (`tk-dev-blue-web-ui: drained`). */
  details: string[];
}

export interface SlotsPort {
  describe(slot: Slot): Promise<SlotRecord | undefined>;
  /** Starts `slot` fresh with `plan`'s release; `secrets` holds the values of plan.secretEnv. */
  start(plan: ReleasePlan, slot: Slot, secrets: Record<string, string | undefined>): Promise<void>;
  /** Brings a parked slot back as it was (no rebuild, no new configuration); a running one is only checked. */
  resume(plan: ReleasePlan, slot: Slot): Promise<void>;
  /**
   * Parks a slot that no longer serves, keeping it for an instant rollback: `running` leaves its
   * processes up (requests in flight finish on their own); `stopped` drains and stops them.
   */
  park(slot: Slot, standby: StandbyMode): Promise<DrainReport>;
  /** Removes a slot that must never be mistaken for a rollback target (a failed start). */
  remove(slot: Slot): Promise<void>;
}

export interface SnapshotRecord {
  name: string;
  takenAt: Date;
  verified: boolean;
  /** Bytes and SHA-256 of a snapshot just taken, where the target reports them (tkctl backup shows them). */
  size?: number;
  sha256?: string;
}

export interface DatabasePort {
  migrationStatus(plan: ReleasePlan, secrets: Record<string, string | undefined>): Promise<PendingMigrations>;
  /** A verified snapshot of the database, before migrations run; emits `snapshot.taken`. */
  snapshot(plan: ReleasePlan, events: DeployEvents): Promise<SnapshotRecord>;
  /** Applies the pending migrations with `plan`'s release; emits `migrated`. */
  migrate(plan: ReleasePlan, secrets: Record<string, string | undefined>, events: DeployEvents): Promise<{ applied: string[] }>;
  /** Deletes snapshots older than the plan's retention (never the newest verified one). */
  applyRetention(plan: ReleasePlan, now: Date, events: DeployEvents): Promise<void>;
  listSnapshots(): Promise<SnapshotRecord[]>;
  /** What a person runs to put `snapshot` back (shown when a rollback crosses a migration). */
  restoreHint(plan: ReleasePlan, snapshot: SnapshotRecord): Promise<string>;
}

export interface ImagesPort {
  /** Removes release images beyond the plan's keepReleases, never one a slot uses. */
  prune(plan: ReleasePlan): Promise<{ removed: string[] }>;
  /** Whether the image of `plan` is still kept (a named rollback needs it). */
  exists(plan: ReleasePlan): Promise<boolean>;
  /** When the image of `plan` was built: a rollback to it crosses every migration since. */
  builtAt(plan: ReleasePlan): Promise<Date>;
}

/** A set of health checks and what releasing them costs (a probe container, connections). */
export interface CheckSet {
  checks: HealthCheck[];
  close(): Promise<void>;
}

export interface GatePort {
  /** Checks of the staged slot, through the route the gate reaches it by. */
  staging(plan: ReleasePlan, slot: Slot): Promise<CheckSet>;
  /** Checks of what users reach, after a switch; they must report `plan`'s release. */
  public(plan: ReleasePlan): Promise<CheckSet>;
  /** The command that shows why a slot failed the gate, or (`router`) why users do not reach a release. */
  diagnose(subject: Slot | 'router'): string;
}

/** A slot Prometheus scrapes: the live one, or the candidate a release is starting. */
export interface ScrapedSlot {
  slot: Slot;
  role: 'live' | 'candidate';
}

/**
 * The monitoring beside a target (monitoring.enabled), told what a release does. Never load-bearing:
 * the pipeline reports a failure here as a warning and the release goes on.
 */
export interface MonitoringPort {
  /** The app instances to scrape from now on (replaces the previous list). */
  scrape(slots: readonly ScrapedSlot[]): Promise<void>;
  /** The deploy-metrics text (components/monitoring/deploy-metrics.ts) as stored; '' when none yet. */
  readDeployMetrics(): Promise<string>;
  /** Replaces the stored deploy-metrics text atomically. */
  writeDeployMetrics(text: string): Promise<void>;
}

export interface ReleaseBackend {
  readonly lock: LockPort;
  readonly routing: RoutingPort;
  readonly slots: SlotsPort;
  readonly database: DatabasePort;
  readonly images: ImagesPort;
  readonly gate: GatePort;
  /** Absent when the stack runs no monitoring. */
  readonly monitoring?: MonitoringPort;
}
