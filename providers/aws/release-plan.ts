import { createHash } from 'node:crypto';
import { RELEASE_PLAN_SCHEMA_VERSION, type ReleasePlan } from '../../components/release/plan.js';
import type { AwsStackConfig } from '../config.js';
import type { ImageTag } from '../docker/image-tag.js';
import { canonicalJson } from '../release-command.js';
import { DEFAULT_AWS_PORTS, DEFAULT_AWS_STAGING_PORTS } from './config.js';
import { awsNames } from './names.js';
import { planAwsTarget, postgresClientImage, type AwsListenerPorts } from './plan-target.js';

export { awsTargetOf, awsTargetSchema, planAwsTarget, type AwsDesiredCount, type AwsListenerPorts, type AwsTargetPlan } from './plan-target.js';

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
    standby: config.release.standby,
    target: planAwsTarget(names, config.aws.region, AWS_LISTENER_PORTS, { 'sensor-api': config.aws.desiredCount.sensorApi, 'web-ui': config.aws.desiredCount.webUi }, postgresClientImage(config.aws.database.engineVersion)),
  };
  const { image, ...rest } = plan;
  const digest = createHash('sha256').update(canonicalJson({ ...rest, image: { ...image, releaseId: imageTag.tag } })).digest('hex');
  return { ...plan, image: { ...image, releaseId: `${imageTag.tag}+cfg.${digest.slice(0, 8)}` } };
}
