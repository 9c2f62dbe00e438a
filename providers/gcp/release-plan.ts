import { createHash } from 'node:crypto';
import { APP_SERVICES, RELEASE_PLAN_SCHEMA_VERSION, type AppService, type ReleasePlan } from '../../components/release/plan.js';
import type { GcpStackConfig } from '../config.js';
import { canonicalJson } from '../release-command.js';
import { cloudSqlConnectionName, serviceAccountEmail, type GcpInfrastructureSpec } from './infrastructure-spec.js';
import type { GcpPlanTargetInput, GcpRevisionSpec } from './plan-target.js';

/** Variables the release forwards by name; on Cloud Run they are Secret Manager references. */
export const GCP_SECRET_ENV = ['TK_DATABASE_PASSWORD', 'TK_HMAC_SECRET'] as const;

export interface GcpImage {
  /** `<semver>-<sha>-<time>`: the image tag of this commit. */
  tag: string;
  version: string;
  commit: string;
}

/**
 * Pure: the release plan of a GCP stack for one image. The release id is the tag plus a digest
 * of everything else in the plan, so a config-only change is a new release (as on Docker).
 */
export function planGcpRelease(config: Pick<GcpStackConfig, 'stack' | 'app' | 'release' | 'snapshots' | 'ephemeral'>, spec: GcpInfrastructureSpec, image: GcpImage): ReleasePlan {
  const plan: ReleasePlan = {
    schemaVersion: RELEASE_PLAN_SCHEMA_VERSION,
    stack: config.stack,
    image: { ref: `${spec.imageRepository}:${image.tag}`, releaseId: image.tag, version: image.version, commit: image.commit },
    appEnv: { TK_LOG_LEVEL: config.app.logLevel },
    secretEnv: [...GCP_SECRET_ENV],
    database: { name: spec.database.name, user: spec.database.user },
    snapshots: { retentionDays: config.snapshots.retentionDays, lockWaitTimeoutMs: config.snapshots.lockWaitTimeoutMs },
    endpoints: { ...spec.endpoints },
    gate: { ...config.release.gate },
    drainTimeoutMs: config.release.drainTimeoutMs,
    standby: config.release.standby,
    keepReleases: config.release.keepReleases,
    lock: { waitMs: config.release.lockWaitMs },
    ephemeral: config.ephemeral,
    target: gcpPlanTargetOfSpec(spec),
  };
  const digest = createHash('sha256').update(canonicalJson(plan)).digest('hex').slice(0, 8);
  return { ...plan, image: { ...plan.image, releaseId: `${image.tag}+cfg.${digest}` } };
}

/** Where the release finds what the program declared: the gcp part of every plan of the stack. */
export function gcpPlanTargetOfSpec(spec: GcpInfrastructureSpec): GcpPlanTargetInput {
  return {
    kind: 'gcp',
    project: spec.project,
    region: spec.region,
    stateBucket: spec.stateBucket.name,
    services: { 'sensor-api': spec.services['sensor-api'].name, 'web-ui': spec.services['web-ui'].name },
    databaseInstance: spec.database.instance,
    revision: gcpRevisionOfSpec(spec),
  };
}

/** What every revision of the stack's services runs with, from the config: the plan carries it, so a config change reaches the next release's revisions. */
function gcpRevisionOfSpec(spec: GcpInfrastructureSpec): GcpRevisionSpec {
  const container = (service: AppService): GcpRevisionSpec['services'][AppService] => {
    const { args, containerPort, portName, startupProbe, timeoutSeconds } = spec.services[service];
    return { args: [...args], containerPort, portName, startupProbe: { ...startupProbe }, timeoutSeconds };
  };
  return {
    serviceAccount: serviceAccountEmail(spec),
    instances: { ...spec.instances },
    database:
      spec.database.connection === 'connector'
        ? { connection: 'connector', instance: cloudSqlConnectionName(spec) }
        : { connection: 'privateIp', network: spec.database.network ?? 'default' },
    secrets: spec.secrets.map((secret) => ({ env: secret.env, secretId: secret.secretId })),
    services: Object.fromEntries(APP_SERVICES.map((service) => [service, container(service)])) as GcpRevisionSpec['services'],
  };
}
