import type { DeployEvents } from '../../components/events/deploy-events.js';
import type { ReleasePlan } from '../../components/release/plan.js';
import type { ReleaseBackend } from '../../components/release/ports.js';
import { awsTargetOf } from './plan-target.js';

/** The AWS target as the release process uses it (see providers/targets.ts). */
export const awsRuntime = {
  /**
   * Runs `work` with the stack's backend. The AWS SDK's own configuration applies: credentials from
   * its default chain, AWS_ENDPOINT_URL[_<SERVICE>] for another endpoint; the region is the plan's.
   */
  async withBackend<T>(plan: ReleasePlan, work: (backend: ReleaseBackend) => Promise<T>, events?: DeployEvents): Promise<T> {
    const target = awsTargetOf(plan);
    // Loaded only for an AWS release: every release process (Docker's too) loads this module, and
    // the AWS SDK's clients take a while to load.
    const [{ awsClients }, { awsReleaseBackend }] = await Promise.all([import('./clients.js'), import('./release-backend.js')]);
    const clients = awsClients({ region: target.region, maxAttempts: 5 });
    try {
      const progress = events ? (fields: Record<string, unknown>, message: string) => events.logger.info(fields, message) : undefined;
      return await work(awsReleaseBackend(clients, plan, progress ? { slots: { progress } } : {}));
    } finally {
      clients.destroy();
    }
  },

  /** Everything of an AWS stack is a Pulumi resource, so `pulumi destroy` removes it; the database keeps its final snapshot (aws.database.finalSnapshot). */
  async destroy(plan: ReleasePlan, events: DeployEvents): Promise<void> {
    const target = awsTargetOf(plan);
    events.logger.info(
      { stack: plan.stack, database: target.database },
      `the AWS resources of stack ${plan.stack} are removed by pulumi destroy itself; RDS keeps the final snapshot ${target.database}-final when aws.database.finalSnapshot is on`,
    );
  },
};
