import { DeployError } from '../errors.js';
import type { PendingMigrations } from '../migrate/migration-status.js';
import { otherSlot, type ReleasePlan, type Slot } from './plan.js';
import type { RoutedRelease } from './ports.js';
import { chooseRollback, type RollbackSituation } from './rollback.js';

/** What a release or rollback does, decided from what was observed before anything changes. */
export type ReleaseSteps =
  | { action: 'nothing'; live: RoutedRelease; previousRelease: string | null }
  | {
      action: 'promote';
      plan: ReleasePlan;
      slot: Slot;
      from: 'fresh' | 'parked';
      /** The slot still runs the release (a parked previous release on `running` standby): see Promotion.warm. */
      warm: boolean;
      /** A verified snapshot, then the pending migrations, before the slot starts. */
      migrate: boolean;
    };

export type ObservedState =
  | { kind: 'release'; plan: ReleasePlan; live: RoutedRelease | null; migrations: PendingMigrations }
  | ({ kind: 'rollback' } & RollbackSituation);

/**
 * Pure: the steps from the observed state and the desired plan. A release goes into the idle slot
 * (blue on an empty stack), migrating first when migrations are pending and refusing when one
 * needs a person; a rollback chooses the release to promote and never migrates.
 */
export function planReleaseSteps(observed: ObservedState): ReleaseSteps {
  if (observed.kind === 'rollback') {
    const choice = chooseRollback(observed);
    return choice.action === 'nothing' ? choice : { ...choice, migrate: false };
  }
  const blocker = migrationBlocker(observed.migrations);
  if (blocker) throw blocker;
  return {
    action: 'promote',
    plan: observed.plan,
    slot: observed.live ? otherSlot(observed.live.slot) : 'blue',
    from: 'fresh',
    warm: false,
    migrate: observed.migrations.pending.length > 0,
  };
}

/**
 * Refuses before anything changes when the database has migrations an operator must look at
 * (failed, edited after applying, or being applied by someone else right now).
 */
export function migrationBlocker(status: { failed: string[]; changed: string[]; running: string[] }): DeployError | undefined {
  if (status.failed.length > 0) {
    return new DeployError(
      `Migration ${status.failed.join(', ')} failed in an earlier run; nothing was released`,
      `inspect it with \`trapperkeeper migrate --status\`, fix the cause, then \`trapperkeeper migrate --resolve ${status.failed[0]}\``,
    );
  }
  if (status.changed.length > 0) {
    return new DeployError(
      `Migration ${status.changed.join(', ')} was edited after it was applied; nothing was released`,
      'restore the applied file from version control and add a new migration for the change',
    );
  }
  if (status.running.length > 0) {
    return new DeployError(`Migration ${status.running.join(', ')} is being applied by another process; nothing was released`, 'wait for it and release again');
  }
  return undefined;
}

