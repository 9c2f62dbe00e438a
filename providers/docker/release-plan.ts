import { z } from 'zod';
import { DEFAULT_STANDBY, parseReleasePlan, parseTargetSection, RELEASE_PLAN_SCHEMA_VERSION, type ReleasePlan } from '../../components/release/plan.js';
import { TLS_ISSUERS, type ReleaseSpec } from './spec.js';

/** The Docker target's part of a release plan: where the stack's containers are. */
export const dockerTargetSchema = z.object({
  kind: z.literal('docker'),
  /** Prefix of every Docker object of the stack, e.g. `tk-dev`. */
  prefix: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'a Docker name prefix'),
  /** `DOCKER_HOST` of the target (local socket when absent, or `ssh://user@host`). */
  dockerHost: z.string().min(1).optional(),
  /** The private network the app, PostgreSQL and Caddy share. */
  network: z.string().min(1),
  /** The PostgreSQL container (snapshots run inside it over its local socket). */
  databaseContainer: z.string().min(1),
  /** Folder inside the PostgreSQL container where the snapshot volume is mounted. */
  snapshotsDir: z.string().startsWith('/'),
  proxyContainer: z.string().min(1),
  /**
   * TLS at Caddy (a stack with a domain); absent: plain HTTP and h2c. Optional, so plans written
   * before it existed read as what they were: plain.
   */
  proxyTls: z
    .object({
      domain: z.string().min(1),
      grpcDomain: z.string().min(1),
      issuer: z.enum(TLS_ISSUERS),
      acmeEmail: z.string().min(1).optional(),
      httpsPort: z.number().int().min(1).max(65535),
    })
    .optional(),
  /** The monitoring containers the release tells what it does (monitoring.enabled); absent: none. */
  monitoring: z
    .object({
      prometheusContainer: z.string().min(1),
      targetsDir: z.string().startsWith('/'),
      nodeExporterContainer: z.string().min(1),
      textfileDir: z.string().startsWith('/'),
      metricsPorts: z.object({ 'sensor-api': z.number().int().min(1).max(65535), 'web-ui': z.number().int().min(1).max(65535) }),
    })
    .optional(),
});
export type DockerTargetPlan = z.infer<typeof dockerTargetSchema>;

/** The release steps' view of a plan: the shared fields and the Docker ones side by side. */
export function dockerSpecOf(plan: ReleasePlan): ReleaseSpec {
  const target = parseTargetSection(plan, 'docker', dockerTargetSchema);
  return {
    stack: plan.stack,
    prefix: target.prefix,
    ...(target.dockerHost !== undefined ? { dockerHost: target.dockerHost } : {}),
    network: target.network,
    image: plan.image,
    appEnv: plan.appEnv,
    secretEnv: plan.secretEnv,
    database: { container: target.databaseContainer, name: plan.database.name, user: plan.database.user },
    snapshots: { dir: target.snapshotsDir, retentionDays: plan.snapshots.retentionDays, lockWaitTimeoutMs: plan.snapshots.lockWaitTimeoutMs },
    proxy: {
      container: target.proxyContainer,
      publicHttpUrl: plan.endpoints.publicHttpUrl,
      publicGrpcAddress: plan.endpoints.publicGrpcAddress,
      ...(target.proxyTls ? { tls: target.proxyTls } : {}),
    },
    gate: plan.gate,
    drainTimeoutMs: plan.drainTimeoutMs,
    standby: plan.standby,
    keepReleases: plan.keepReleases,
    lock: plan.lock,
    ephemeral: plan.ephemeral,
    ...(target.monitoring ? { monitoring: target.monitoring } : {}),
  };
}

/**
 * The plan of a Docker release spec. Release specs were what slots carried in their labels
 * before plans had a schema version (toolkit 0.1 up to December 2026): this is also how a
 * rollback reads a release deployed then.
 */
export function planOfDockerSpec(spec: ReleaseSpec): ReleasePlan {
  return {
    schemaVersion: RELEASE_PLAN_SCHEMA_VERSION,
    stack: spec.stack,
    image: spec.image,
    appEnv: spec.appEnv,
    secretEnv: spec.secretEnv,
    database: { name: spec.database.name, user: spec.database.user },
    snapshots: { retentionDays: spec.snapshots.retentionDays, lockWaitTimeoutMs: spec.snapshots.lockWaitTimeoutMs },
    endpoints: { publicHttpUrl: spec.proxy.publicHttpUrl, publicGrpcAddress: spec.proxy.publicGrpcAddress },
    gate: spec.gate,
    drainTimeoutMs: spec.drainTimeoutMs,
    standby: spec.standby ?? DEFAULT_STANDBY,
    keepReleases: spec.keepReleases,
    lock: spec.lock,
    ephemeral: spec.ephemeral ?? false,
    target: {
      kind: 'docker',
      prefix: spec.prefix,
      ...(spec.dockerHost !== undefined ? { dockerHost: spec.dockerHost } : {}),
      network: spec.network,
      databaseContainer: spec.database.container,
      snapshotsDir: spec.snapshots.dir,
      proxyContainer: spec.proxy.container,
      ...(spec.proxy.tls ? { proxyTls: spec.proxy.tls } : {}),
      ...(spec.monitoring ? { monitoring: spec.monitoring } : {}),
    },
  };
}

/** An unversioned plan is a release spec of the first toolkit versions when it has their shape. */
function upgradeReleaseSpec(value: Record<string, unknown>): unknown {
  const looksLikeSpec = typeof value.prefix === 'string' && typeof value.network === 'string' && typeof value.proxy === 'object' && typeof value.database === 'object';
  return looksLikeSpec ? planOfDockerSpec(value as unknown as ReleaseSpec) : undefined;
}

/** Reads a plan a Docker stack wrote: current, or a release spec label of an older toolkit. */
export function parseDockerReleasePlan(input: unknown, source: string, fix: string): ReleasePlan {
  const plan = parseReleasePlan(input, { source, fix, upgradeUnversioned: upgradeReleaseSpec });
  dockerSpecOf(plan);
  return plan;
}
