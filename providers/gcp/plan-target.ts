import { z } from 'zod';
import { DeployError } from '../../components/errors.js';
import { parseTargetSection, type ReleasePlan } from '../../components/release/plan.js';

// Apart from release-plan.ts, which reads the stack config: the release process reads plans only
// and must not load the Pulumi SDK that the config module brings (lint:layers checks it).

/** pg_dump of the Cloud SQL version the target declares (POSTGRES_16), from Docker Hub. */
export const DEFAULT_SNAPSHOT_IMAGE = 'postgres:16-bookworm';

const port = z.number().int().min(1).max(65535);

/** One service's container as every revision of it runs (the app's subcommand, its port, how Cloud Run probes it). */
const revisionContainerSchema = z.object({
  args: z.array(z.string()),
  containerPort: port,
  /** `h2c`: HTTP/2 cleartext end to end (gRPC); `http1` otherwise. */
  portName: z.enum(['h2c', 'http1']),
  startupProbe: z.discriminatedUnion('kind', [z.object({ kind: z.literal('grpc'), port }), z.object({ kind: z.literal('http'), path: z.string().min(1), port })]),
  /** How long Cloud Run lets one request (a sensor's gRPC stream) last. */
  timeoutSeconds: z.number().int().min(1),
});

/**
 * What a release builds each revision from (run/revision-template.ts). The release owns the
 * services' template: `pulumi up` declares it once and never sends it again (an update of a
 * google_cloud_run_v2_service replaces the whole service, which would start an ungated revision),
 * so every setting of a revision comes from the plan of the release that creates it.
 */
export const gcpRevisionSchema = z.object({
  /** The services' own account (email). */
  serviceAccount: z.string().min(1),
  instances: z.object({ min: z.number().int().min(0), max: z.number().int().min(1) }),
  /** How the revisions reach Cloud SQL: the connector's socket volume, or Direct VPC egress to its private IP. */
  database: z.discriminatedUnion('connection', [
    z.object({ connection: z.literal('connector'), instance: z.string().min(1) }),
    z.object({ connection: z.literal('privateIp'), network: z.string().min(1) }),
  ]),
  /** The app's secrets: each variable is a Secret Manager reference (the version comes with the release's revision refs). */
  secrets: z.array(z.object({ env: z.string().min(1), secretId: z.string().min(1) })),
  services: z.object({ 'sensor-api': revisionContainerSchema, 'web-ui': revisionContainerSchema }),
});
export type GcpRevisionSpec = z.infer<typeof gcpRevisionSchema>;

/**
 * What only exists once `pulumi up` created the resources, handed to the release process in
 * GCP_REVISION_REFS_ENV (not secret): the database URL (the instance's private IP) and the
 * Secret Manager version of each secret, pinned so that a new secret value reaches users only
 * through a release's gated revision.
 */
export const GCP_REVISION_REFS_ENV = 'TK_GCP_REVISION_REFS';
export const gcpRevisionRefsSchema = z.object({
  /** TK_DATABASE_URL without the password. */
  databaseUrl: z.string().min(1),
  /** Secret Manager version per variable (`TK_HMAC_SECRET` -> `3`). */
  secretVersions: z.record(z.string(), z.string().min(1)),
});
export type GcpRevisionRefs = z.infer<typeof gcpRevisionRefsSchema>;

/** The revision refs from the release process's environment; missing or malformed ones stop the release before anything changes. */
export function revisionRefsFrom(env: Record<string, string | undefined>): GcpRevisionRefs {
  const fix = 'release with `pulumi up`: the program passes it to the release';
  const text = env[GCP_REVISION_REFS_ENV];
  if (!text) throw new DeployError(`${GCP_REVISION_REFS_ENV} is not set: the release cannot build a Cloud Run revision without the database URL and the secrets' versions`, fix);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DeployError(`${GCP_REVISION_REFS_ENV} is not JSON`, fix);
  }
  const result = gcpRevisionRefsSchema.safeParse(parsed);
  if (!result.success) throw new DeployError(`${GCP_REVISION_REFS_ENV} is invalid: ${result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`, fix);
  return result.data;
}

/** The gcp part of a release plan: where the release finds the stack's services, bucket and database. */
export const gcpPlanTargetSchema = z.object({
  kind: z.literal('gcp'),
  project: z.string().min(1),
  region: z.string().min(1),
  stateBucket: z.string().min(1),
  services: z.object({ 'sensor-api': z.string().min(1), 'web-ui': z.string().min(1) }),
  databaseInstance: z.string().min(1),
  /** The image whose pg_dump takes the snapshot job (its major version at least the server's). */
  snapshotImage: z.string().min(1).default(DEFAULT_SNAPSHOT_IMAGE),
  revision: gcpRevisionSchema,
});
export type GcpPlanTarget = z.infer<typeof gcpPlanTargetSchema>;
/** As a plan carries it (defaulted fields may be absent). */
export type GcpPlanTargetInput = z.input<typeof gcpPlanTargetSchema>;

export function gcpTargetOf(plan: ReleasePlan): GcpPlanTarget {
  return parseTargetSection(plan, 'gcp', gcpPlanTargetSchema);
}
