import { DeployError } from '../errors.js';
import type { CheckOutcome } from '../health-gate/gate-state.js';
import type { PendingMigrations } from '../migrate/migration-status.js';
import type { ReleasePlan, Slot } from './plan.js';
import type { CheckSet, DrainReport, MonitoringPort, ProxyRouting, ReleaseBackend, RoutedRelease, ScrapedSlot, SlotRecord, SnapshotRecord, SwitchResult } from './ports.js';

/** Where the in-memory target can be told to fail. */
export type FailurePoint =
  | 'lock'
  | 'read'
  | 'migration-status'
  | 'snapshot'
  | 'migrate'
  | 'start'
  | 'resume'
  | 'stage'
  | 'switch'
  | 'restore'
  | 'park'
  | 'prune'
  | 'unlock'
  | 'monitoring';

interface MemorySlot {
  plan: ReleasePlan;
  running: boolean;
  startedAt: Date;
}

export interface MemoryBackendOptions {
  /** Migration ids the database has not applied yet. */
  pending?: string[];
  failed?: string[];
  /** Another process holds the lock. */
  lockHeld?: boolean;
  /** Images the target keeps, by ref (a fresh start of any other image fails). */
  images?: string[];
  /** The target runs monitoring (`monitoring`: scrape lists and the deploy-metrics text). */
  monitoring?: boolean;
}

/**
 * A deployment target in memory: the ports' behaviour without the infrastructure, so the
 * pipeline's ordering and every failure path run in milliseconds. What a real target does in
 * containers, it does on plain fields; what it was asked, it records in `calls`; where it should
 * fail, `failAt` says. The health of the slots and of the public endpoint is scripted per round.
 */
export class MemoryBackend implements ReleaseBackend {
  readonly calls: string[] = [];
  readonly failAt = new Map<FailurePoint, Error>();
  routingState: ProxyRouting = { live: null, staging: null };
  readonly slotState = new Map<Slot, MemorySlot>();
  readonly snapshotsTaken: SnapshotRecord[] = [];
  pendingMigrations: string[];
  failedMigrations: string[];
  lockHeld: boolean;
  lockedNow = false;
  readonly images: ReleaseBackend['images'];
  readonly keptImages: Set<string>;
  /** The staged slot's answer in a round (default: healthy and reporting its release). */
  stagingHealth: (round: number, slot: Slot, plan: ReleasePlan) => CheckOutcome = (_round, _slot, plan) => ({ ok: true, detail: `release ${plan.image.releaseId}` });
  /** What users get in a round after a switch (default: the release routed live). */
  publicHealth: (round: number, plan: ReleasePlan) => CheckOutcome = (_round, plan) =>
    this.routingState.live?.releaseId === plan.image.releaseId ? { ok: true, detail: 'ok' } : { ok: false, detail: `serves ${this.routingState.live?.releaseId ?? 'nothing'}` };
  readonly monitoring?: MonitoringPort;
  /** Every scrape list monitoring was given, in order. */
  readonly scrapeHistory: ScrapedSlot[][] = [];
  /** The stored deploy-metrics text ('' until a release writes it). */
  deployMetricsText = '';
  /** Called at each step with its name (a test can make time pass or act in between). */
  onStep: (step: string) => void | Promise<void> = () => undefined;
  private clock = Date.parse('2026-12-01T10:00:00Z');

  constructor(options: MemoryBackendOptions = {}) {
    this.pendingMigrations = [...(options.pending ?? [])];
    this.failedMigrations = [...(options.failed ?? [])];
    this.lockHeld = options.lockHeld ?? false;
    this.keptImages = new Set(options.images ?? []);
    const backend = this;
    if (options.monitoring) {
      this.monitoring = {
        async scrape(slots) {
          await backend.step('monitoring', 'scrape');
          backend.scrapeHistory.push(structuredClone([...slots]));
        },
        async readDeployMetrics() {
          return backend.deployMetricsText;
        },
        async writeDeployMetrics(text) {
          await backend.step('monitoring', 'deploy metrics');
          backend.deployMetricsText = text;
        },
      };
    }
    this.images = {
      async prune() {
        await backend.step('prune');
        return { removed: [] };
      },
      async exists(plan) {
        return backend.keptImages.has(plan.image.ref);
      },
      async builtAt() {
        return new Date(0);
      },
    };
  }

  private now(): Date {
    this.clock += 1000;
    return new Date(this.clock);
  }

  private async step(name: FailurePoint, detail = ''): Promise<void> {
    this.calls.push(detail ? `${name} ${detail}` : name);
    await this.onStep(name);
    const failure = this.failAt.get(name);
    if (failure) throw failure;
  }

  readonly lock: ReleaseBackend['lock'] = {
    acquire: async (_holder, { events }) => {
      if (this.lockHeld || this.lockedNow) throw new DeployError('Another release holds the deploy lock', 'wait for it');
      await this.step('lock');
      this.lockedNow = true;
      events.emit('lock.acquired', { lock: 'memory-lock' });
      return {
        name: 'memory-lock',
        release: async () => {
          this.calls.push('unlock');
          const failure = this.failAt.get('unlock');
          if (failure) throw failure;
          this.lockedNow = false;
          events.emit('lock.released', { lock: 'memory-lock' });
        },
      };
    },
  };

  readonly routing: ReleaseBackend['routing'] = {
    read: async () => {
      await this.step('read');
      return structuredClone(this.routingState);
    },
    stage: async (plan, slot, live) => {
      await this.step('stage', slot);
      this.expectLive(live);
      this.routingState = { live: this.routingState.live, staging: { slot, releaseId: plan.image.releaseId } };
    },
    switchTo: async (plan, slot, expectedLive) => {
      await this.step('switch', slot);
      this.expectLive(expectedLive);
      const previous = structuredClone(this.routingState);
      this.routingState = { live: { slot, releaseId: plan.image.releaseId }, staging: previous.live && previous.live.slot !== slot ? previous.live : null };
      return { previous, routing: structuredClone(this.routingState), durationMs: 1 } satisfies SwitchResult;
    },
    restore: async (switched) => {
      await this.step('restore');
      this.routingState = structuredClone(switched.previous);
    },
  };

  private expectLive(expected: RoutedRelease | null): void {
    const live = this.routingState.live;
    if (live?.slot !== expected?.slot || live?.releaseId !== expected?.releaseId) {
      throw new DeployError(`The router serves ${live?.releaseId ?? 'nothing'}, not ${expected?.releaseId ?? 'nothing'}`, 'release again');
    }
  }

  readonly slots: ReleaseBackend['slots'] = {
    describe: async (slot) => {
      const held = this.slotState.get(slot);
      return held ? ({ slot, plan: held.plan, startedAt: held.startedAt, running: held.running } satisfies SlotRecord) : undefined;
    },
    start: async (plan, slot, secrets) => {
      await this.step('start', `${slot} ${plan.image.releaseId}`);
      const missing = plan.secretEnv.filter((name) => !secrets[name]);
      if (missing.length > 0) throw new DeployError(`missing secrets ${missing.join(', ')}`, 'set them');
      if (this.keptImages.size > 0 && !this.keptImages.has(plan.image.ref)) throw new DeployError(`no image ${plan.image.ref}`, 'build it');
      this.slotState.set(slot, { plan, running: true, startedAt: this.now() });
    },
    resume: async (plan, slot) => {
      await this.step('resume', `${slot} ${plan.image.releaseId}`);
      const held = this.slotState.get(slot);
      if (!held || held.plan.image.releaseId !== plan.image.releaseId) throw new DeployError(`the ${slot} slot does not hold ${plan.image.releaseId}`, 'roll back to a kept release');
      held.running = true;
    },
    park: async (slot, standby): Promise<DrainReport> => {
      await this.step('park', `${slot} ${standby}`);
      const held = this.slotState.get(slot);
      if (held && standby === 'stopped') held.running = false;
      return { slot, clean: true, details: [`${slot}: ${standby === 'stopped' ? 'drained' : 'standby'}`] };
    },
    remove: async (slot) => {
      this.calls.push(`remove ${slot}`);
      this.slotState.delete(slot);
    },
  };

  readonly database: ReleaseBackend['database'] = {
    migrationStatus: async (): Promise<PendingMigrations> => {
      await this.step('migration-status');
      return { pending: [...this.pendingMigrations], failed: [...this.failedMigrations], changed: [], running: [], statuses: [] };
    },
    snapshot: async (plan, events) => {
      await this.step('snapshot');
      const record = { name: `${plan.database.name}-${this.snapshotsTaken.length + 1}.dump`, takenAt: this.now(), verified: true };
      this.snapshotsTaken.push(record);
      events.emit('snapshot.taken', { snapshot: record.name });
      return record;
    },
    migrate: async (_plan, _secrets, events) => {
      await this.step('migrate');
      const applied = this.pendingMigrations;
      this.pendingMigrations = [];
      events.emit('migrated', { ids: applied });
      return { applied };
    },
    applyRetention: async () => {
      this.calls.push('retention');
    },
    listSnapshots: async () => [...this.snapshotsTaken],
    restoreHint: async (_plan, snapshot) => `restore ${snapshot.name}`,
  };

  readonly gate: ReleaseBackend['gate'] = {
    staging: async (plan, slot): Promise<CheckSet> => {
      let round = 0;
      return {
        checks: [{ name: `${slot} health`, run: async () => this.stagingHealth(++round, slot, plan), close() {} }],
        close: async () => {
          this.calls.push('gate closed');
        },
      };
    },
    public: async (plan): Promise<CheckSet> => {
      let round = 0;
      return { checks: [{ name: 'public health', run: async () => this.publicHealth(++round, plan), close() {} }], close: async () => undefined };
    },
    diagnose: (subject) => `inspect ${subject}`,
  };
}

/** A valid plan of a `docker`-less test target, with `overrides` on top. */
export function exampleReleasePlan(releaseId: string, overrides: Partial<ReleasePlan> = {}): ReleasePlan {
  const tag = releaseId.split('+')[0]!;
  return {
    schemaVersion: 1,
    stack: 'test',
    image: { ref: `tk-test/trapperkeeper:${tag}`, releaseId, version: tag.split('-')[0]!, commit: '0123abcd' },
    appEnv: { TK_LOG_LEVEL: 'info' },
    secretEnv: ['TK_DATABASE_URL'],
    database: { name: 'trapperkeeper', user: 'trapperkeeper' },
    snapshots: { retentionDays: 7, lockWaitTimeoutMs: 10_000 },
    endpoints: { publicHttpUrl: 'http://127.0.0.1:8080', publicGrpcAddress: '127.0.0.1:50051' },
    gate: { successes: 2, intervalMs: 1, timeoutMs: 200 },
    drainTimeoutMs: 1000,
    keepReleases: 5,
    lock: { waitMs: 0 },
    ephemeral: false,
    standby: 'running',
    target: { kind: 'memory' },
    ...overrides,
  };
}
