import { DeployError } from '../../components/errors.js';
import type { DeployEvents } from '../../components/events/deploy-events.js';
import type { ReleasePlan } from '../../components/release/plan.js';
import type { ReleaseBackend } from '../../components/release/ports.js';
import { awsClients } from './clients.js';
import { awsTargetOf } from './plan-target.js';
import { awsReleaseBackend } from './release-backend.js';

/**
 * What the AWS release backend does not implement yet (issue 16); a release refuses before it
 * takes the lock or changes anything while this lists a port. Every port is built now: lock
 * (lock/), routing (routing/), slots (slots/), database (database/, tasks/), images (images/) and
 * gate (gate/); see the README for what was verified against an emulator and what only AWS shows.
 */
export const AWS_PORTS_MISSING: readonly string[] = [];

/** The AWS target as the release process uses it (see providers/targets.ts). */
export const awsRuntime = {
  /**
   * Runs `work` with the stack's backend. The AWS SDK's own configuration applies: credentials from
   * its default chain, AWS_ENDPOINT_URL[_<SERVICE>] for another endpoint; the region is the plan's.
   */
  async withBackend<T>(plan: ReleasePlan, work: (backend: ReleaseBackend) => Promise<T>, events?: DeployEvents): Promise<T> {
    const target = awsTargetOf(plan);
    if (AWS_PORTS_MISSING.length > 0) {
      throw new DeployError(
        `Stack ${plan.stack} (AWS, ${target.region}) cannot be released yet: the AWS release backend lacks ${AWS_PORTS_MISSING.join('; ')}. The infrastructure is declared; nothing was changed by this release`,
        'release on a Docker target for now (provider: docker), or follow issue 16',
      );
    }
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
