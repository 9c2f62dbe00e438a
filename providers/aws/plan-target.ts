import { z } from 'zod';
import { APP_SERVICES, parseTargetSection, SLOTS, type AppService, type ReleasePlan, type Slot } from '../../components/release/plan.js';
import type { AwsNames } from './names.js';

// The plan's aws section, apart from planAwsRelease (which reads the stack config and so the
// Pulumi SDK): the release process reads plans and must not load the SDK.

const name = z.string().min(1);
const port = z.number().int().min(1).max(65535);
const perSlot = <T extends z.ZodType>(value: T) => z.object({ blue: value, green: value });
const perService = <T extends z.ZodType>(value: T) => z.object({ 'sensor-api': value, 'web-ui': value });

/**
 * The AWS target's part of a release plan: where the stack's resources are, by name (names are
 * fixed by stack and region, see names.ts; the release process looks ARNs up by them).
 */
export const awsTargetSchema = z.object({
  kind: z.literal('aws'),
  region: name,
  loadBalancer: name,
  /** Listener ports: users on `web` (HTTPS) and `grpc`; the gate on the staging ones. */
  listeners: z.object({ web: port, grpc: port, stagingWeb: port, stagingGrpc: port }),
  targetGroups: perSlot(perService(name)),
  cluster: name,
  services: perSlot(perService(name)),
  /** Tasks per service a started (or resumed) slot runs (aws.desiredCount). */
  desiredCount: perService(z.number().int().min(1)),
  /** The PostgreSQL client image the snapshot task runs pg_dump from (the database's major version). */
  snapshotImage: name,
  lockTable: name,
  snapshotBucket: name,
  database: name,
});
export type AwsTargetPlan = z.infer<typeof awsTargetSchema>;

/** The listener ports every AWS stack has. */
export interface AwsListenerPorts {
  web: number;
  grpc: number;
  stagingWeb: number;
  stagingGrpc: number;
}

function bySlotAndService(of: (slot: Slot, service: AppService) => string): AwsTargetPlan['targetGroups'] {
  const entry = (slot: Slot) => Object.fromEntries(APP_SERVICES.map((service) => [service, of(slot, service)])) as Record<AppService, string>;
  return Object.fromEntries(SLOTS.map((slot) => [slot, entry(slot)])) as AwsTargetPlan['targetGroups'];
}

/** Tasks per service of a running slot. */
export type AwsDesiredCount = Record<AppService, number>;

/** Where the snapshot task pulls pg_dump from: the official image of the database's major version, from ECR Public. */
export function postgresClientImage(engineVersion: string): string {
  return `public.ecr.aws/docker/library/postgres:${engineVersion.split('.')[0]}`;
}

export function planAwsTarget(names: AwsNames, region: string, listeners: AwsListenerPorts, desiredCount: AwsDesiredCount, snapshotImage: string): AwsTargetPlan {
  return {
    kind: 'aws',
    region,
    loadBalancer: names.loadBalancer,
    listeners: { ...listeners },
    targetGroups: bySlotAndService(names.targetGroup),
    cluster: names.cluster,
    services: bySlotAndService(names.service),
    desiredCount: { ...desiredCount },
    snapshotImage,
    lockTable: names.lockTable,
    snapshotBucket: names.snapshotBucket,
    database: names.database,
  };
}

/** The AWS section of a plan, validated (a plan of another target is refused). */
export function awsTargetOf(plan: ReleasePlan): AwsTargetPlan {
  return parseTargetSection(plan, 'aws', awsTargetSchema);
}
