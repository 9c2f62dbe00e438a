import { DeployError } from '../../components/errors.js';
import type { DeployEvents } from '../../components/events/deploy-events.js';
import type { ReleasePlan } from '../../components/release/plan.js';
import type { ReleaseBackend } from '../../components/release/ports.js';
import { awsTargetOf } from './plan-target.js';

/**
 * What the AWS release backend does not implement yet (issue 16). The lock (lock/), routing
 * (routing/), snapshot storage (snapshot/) and the gate's target-health check (gate/) are built
 * and tested against moto; these are not,
 * so a release refuses before it takes the lock or changes anything.
 */
export const AWS_PORTS_MISSING = [
  'slots (ECS service updates to the release task definition, waiting for steady state, parking by desired count 0)',
  'database (migration status, pg_dump to S3 and migrations as one-off ECS tasks)',
  'gate (HTTP and gRPC probes through the test listeners, composed with the target-health check of gate/)',
  'images (ECR pruning)',
] as const;

/** The AWS target as the release process uses it (see providers/targets.ts). */
export const awsRuntime = {
  async withBackend<T>(plan: ReleasePlan, _work: (backend: ReleaseBackend) => Promise<T>): Promise<T> {
    const target = awsTargetOf(plan);
    throw new DeployError(
      `Stack ${plan.stack} (AWS, ${target.region}) cannot be released yet: the AWS release backend lacks ${AWS_PORTS_MISSING.join('; ')}. The infrastructure is declared; nothing was changed by this release`,
      'release on a Docker target for now (provider: docker), or follow issue 16',
    );
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
