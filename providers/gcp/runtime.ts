import { DeployError } from '../../components/errors.js';
import type { DeployEvents } from '../../components/events/deploy-events.js';
import type { ReleasePlan } from '../../components/release/plan.js';
import type { ReleaseBackend } from '../../components/release/ports.js';
import { gcpTargetOf } from './plan-target.js';

/**
 * The release process's side of the GCP target. Its release backend is not complete: the lock
 * (lock/gcs-lock.ts), snapshot storage (snapshot/snapshot-store.ts) and the traffic plans
 * (routing/) exist; the Cloud Run slots, the gate through tag URLs, pg_dump and migrations as
 * Cloud Run jobs do not yet. A release is refused with that said, rather than half run.
 */
export const gcpRuntime = {
  async withBackend<T>(plan: ReleasePlan, _work: (backend: ReleaseBackend) => Promise<T>): Promise<T> {
    const target = gcpTargetOf(plan);
    throw new DeployError(
      `Stack ${plan.stack} targets GCP (project ${target.project}, ${target.region}), whose release steps are not complete in this version of the toolkit: ` +
        'the deploy lock and snapshot storage are, but starting Cloud Run revisions, the health gate, migrations and the traffic switch are not',
      'deploy this stack with provider docker for now, or follow issue 16 for the GCP release steps',
    );
  },
  /** The Cloud Run revisions and the bucket go with their Pulumi resources; nothing of a release is left to remove. */
  async destroy(plan: ReleasePlan, events: DeployEvents): Promise<void> {
    const target = gcpTargetOf(plan);
    if (plan.ephemeral) {
      events.logger.warn(
        { event: 'snapshot.failed', stack: plan.stack, reason: 'no final snapshot on gcp yet' },
        `no final snapshot of ${target.databaseInstance} is taken before it is destroyed (not implemented on GCP yet); take one with \`gcloud sql export sql ${target.databaseInstance} gs://${target.stateBucket}/final.sql.gz --database=${plan.database.name}\` first if you need the data`,
      );
    }
  },
};
