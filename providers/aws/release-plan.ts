import { createHash } from 'node:crypto';
import { z } from 'zod';
import { APP_SERVICES, parseTargetSection, RELEASE_PLAN_SCHEMA_VERSION, SLOTS, type AppService, type ReleasePlan, type Slot } from '../../components/release/plan.js';
import type { AwsStackConfig } from '../config.js';
import type { ImageTag } from '../docker/image-tag.js';
import { canonicalJson } from '../docker/release-command.js';
import { DEFAULT_AWS_PORTS, DEFAULT_AWS_STAGING_PORTS } from './config.js';
import { awsNames, type AwsNames } from './names.js';

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

export function planAwsTarget(names: AwsNames, region: string, listeners: AwsListenerPorts): AwsTargetPlan {
  return {
    kind: 'aws',
    region,
    loadBalancer: names.loadBalancer,
    listeners: { ...listeners },
    targetGroups: bySlotAndService(names.targetGroup),
    cluster: names.cluster,
    services: bySlotAndService(names.service),
    lockTable: names.lockTable,
    snapshotBucket: names.snapshotBucket,
    database: names.database,
  };
}

/** The AWS section of a plan, validated (a plan of another target is refused). */
export function awsTargetOf(plan: ReleasePlan): AwsTargetPlan {
  return parseTargetSection(plan, 'aws', awsTargetSchema);
}

/** Listener ports of an AWS stack: the public ones users and sensors use, and the gate's test listeners. */
export const AWS_LISTENER_PORTS: AwsListenerPorts & { http: number } = {
  http: DEFAULT_AWS_PORTS.http,
  web: DEFAULT_AWS_PORTS.https,
  grpc: DEFAULT_AWS_PORTS.grpc,
  stagingWeb: DEFAULT_AWS_STAGING_PORTS.https,
  stagingGrpc: DEFAULT_AWS_STAGING_PORTS.grpc,
};

export type AwsReleaseInput = Pick<AwsStackConfig, 'stack' | 'aws' | 'app' | 'database' | 'snapshots' | 'release' | 'ephemeral'>;

/**
 * The release plan of an AWS stack for this commit's image. The image is named inside the stack's
 * ECR repository (`tk-<stack>/trapperkeeper:<tag>`; the registry host is the account's, looked up
 * by the release). The release id is the tag plus a digest of the rest of the plan, so a
 * config-only change is a new release, as on Docker. The tasks read their secrets from Secrets
 * Manager, so the release process forwards none (`secretEnv` is empty).
 */
export function planAwsRelease(config: AwsReleaseInput, imageTag: Pick<ImageTag, 'tag' | 'version' | 'commit'>): ReleasePlan {
  const names = awsNames(config.stack, config.aws.region, config.aws.snapshotBucket);
  const ref = `${names.repository}:${imageTag.tag}`;
  const plan: ReleasePlan = {
    schemaVersion: RELEASE_PLAN_SCHEMA_VERSION,
    stack: config.stack,
    image: { ref, releaseId: imageTag.tag, version: imageTag.version, commit: imageTag.commit },
    appEnv: { TK_LOG_LEVEL: config.app.logLevel },
    secretEnv: [],
    database: { name: config.database.name, user: config.database.user },
    snapshots: { retentionDays: config.snapshots.retentionDays, lockWaitTimeoutMs: config.snapshots.lockWaitTimeoutMs },
    endpoints: { publicHttpUrl: `https://${config.aws.domain}`, publicGrpcAddress: `${config.aws.domain}:${AWS_LISTENER_PORTS.grpc}` },
    gate: { ...config.release.gate },
    drainTimeoutMs: config.release.drainTimeoutMs,
    keepReleases: config.release.keepReleases,
    lock: { waitMs: config.release.lockWaitMs },
    ephemeral: config.ephemeral,
    target: planAwsTarget(names, config.aws.region, AWS_LISTENER_PORTS),
  };
  const { image, ...rest } = plan;
  const digest = createHash('sha256').update(canonicalJson({ ...rest, image: { ...image, releaseId: imageTag.tag } })).digest('hex');
  return { ...plan, image: { ...image, releaseId: `${imageTag.tag}+cfg.${digest.slice(0, 8)}` } };
}
