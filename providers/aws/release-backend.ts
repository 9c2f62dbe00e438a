import type { ReleasePlan } from '../../components/release/plan.js';
import type { ReleaseBackend } from '../../components/release/ports.js';
import { SLOTS } from '../../components/release/plan.js';
import type { AwsClients } from './clients.js';
import { ecsDatabase, type EcsDatabaseOptions } from './database/ecs-database.js';
import { albGate, type AlbGateOptions } from './gate/release-gate.js';
import { ecrImages } from './images/ecr-images.js';
import { acquireDynamoLock } from './lock/dynamodb-lock.js';
import { awsTargetOf } from './plan-target.js';
import { elbRouting } from './routing/listener-routing.js';
import { ecsSlots, type EcsSlotsOptions } from './slots/ecs-slots.js';

export interface AwsBackendOptions {
  slots?: Omit<EcsSlotsOptions, 'drainTimeoutMs'>;
  database?: EcsDatabaseOptions;
  lockPollMs?: number;
  /** The gate's probes (AlbGateOptions: the roots they trust). */
  gate?: AlbGateOptions;
}

/**
 * The release pipeline's ports on one AWS stack (its plan's `target`): the DynamoDB lock, the
 * ALB's weighted listeners, the ECS services of each slot, one-off ECS tasks against RDS with the
 * snapshots in S3, the ECR repository, and a gate of target health plus probes through the test
 * listeners. `plan` is the stack's current plan: where its resources are.
 */
export function awsReleaseBackend(clients: AwsClients, plan: ReleasePlan, options: AwsBackendOptions = {}): ReleaseBackend {
  const target = awsTargetOf(plan);
  const slots = ecsSlots(clients.ecs, target, { ...options.slots, drainTimeoutMs: plan.drainTimeoutMs });
  return {
    lock: {
      acquire: (holder, acquire) =>
        acquireDynamoLock({ client: clients.dynamodb, region: target.region, table: target.lockTable, stack: plan.stack }, holder, {
          ...acquire,
          ...(options.lockPollMs !== undefined ? { pollMs: options.lockPollMs } : {}),
        }),
    },
    routing: elbRouting(clients.elbv2, target),
    slots,
    database: ecsDatabase(clients, target, options.database),
    images: ecrImages(clients.ecr, {
      inUse: async () => (await Promise.all(SLOTS.map((slot) => slots.describe(slot)))).flatMap((record) => (record ? [record.plan.image.ref] : [])),
    }),
    gate: albGate(clients.elbv2, target, options.gate),
  };
}
