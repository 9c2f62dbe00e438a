import type { DeployEvents } from '../../components/events/deploy-events.js';
import type { ReleasePlan } from '../../components/release/plan.js';
import type { ReleaseBackend } from '../../components/release/ports.js';
import { gcpTargetOf, type GcpPlanTarget } from './plan-target.js';
import type { GcpBackendParts } from './release-backend.js';
import type { CloudRunEndpoint } from './run/clients.js';

export interface GcpBackendOptions {
  /** Tests only: the Cloud Run and Artifact Registry emulators and fake-gcs-server on 127.0.0.1; else Google's APIs with Application Default Credentials. */
  cloudRunEndpoint?: CloudRunEndpoint;
  artifactRegistryEndpoint?: CloudRunEndpoint;
  storageEndpoint?: string;
  /** Tests only: the Cloud Logging server of emulator/cloud-logging.ts (tkctl logs). */
  loggingEndpoint?: CloudRunEndpoint;
  progress?: (line: string) => void;
}

/** Runs `work` with the API clients and release-state bucket of the stack at `target` and closes the clients after. */
export async function withGcpParts<T>(target: GcpPlanTarget, options: GcpBackendOptions, work: (parts: GcpBackendParts) => Promise<T>): Promise<T> {
  // Loaded only for a GCP release: every release process (Docker's too) loads this module, and
  // the Google clients take a while to load.
  const [{ cloudRunClients }, { releaseBucket }, { artifactRegistryClient }] = await Promise.all([
    import('./run/clients.js'),
    import('./storage/release-bucket.js'),
    import('./images/client.js'),
  ]);
  const clients = cloudRunClients(options.cloudRunEndpoint);
  const artifactRegistry = artifactRegistryClient(options.artifactRegistryEndpoint);
  const bucket = releaseBucket({ project: target.project, bucket: target.stateBucket, ...(options.storageEndpoint ? { apiEndpoint: options.storageEndpoint } : {}) });
  try {
    return await work({ clients, bucket, artifactRegistry, progress: options.progress ?? ((line) => process.stderr.write(`${line}\n`)) });
  } finally {
    await Promise.all([clients.close(), artifactRegistry.close()]);
  }
}

/** Runs `work` with the GCP backend of `plan`'s stack and closes its API clients after. */
export async function withGcpBackend<T>(plan: ReleasePlan, options: GcpBackendOptions, work: (backend: ReleaseBackend) => Promise<T>): Promise<T> {
  const { gcpReleaseBackend } = await import('./release-backend.js');
  return withGcpParts(gcpTargetOf(plan), options, (parts) => work(gcpReleaseBackend(plan, parts)));
}

/**
 * Before `pulumi destroy` removes a GCP stack. Its Cloud Run services, jobs and revisions go with
 * their Pulumi resources. An ephemeral stack's Cloud SQL instance and release-state bucket go too,
 * so, as on Docker, a final verified pg_dump snapshot is taken first and copied out of the bucket
 * to `.trapperkeeper/final-snapshots/<stack>/` (with its `.sha256`); if that fails, destroy stops
 * before anything is deleted. Any other stack keeps its instance, database and bucket (snapshots
 * included): nothing to save.
 */
export async function destroyGcpStack(plan: ReleasePlan, events: DeployEvents, options: GcpBackendOptions & { projectDir?: string } = {}): Promise<void> {
  const target = gcpTargetOf(plan);
  if (!plan.ephemeral) {
    events.logger.info(
      { event: 'destroy.kept', stack: plan.stack, databaseInstance: target.databaseInstance, bucket: target.stateBucket },
      `pulumi destroy keeps the Cloud SQL instance ${target.databaseInstance} (database ${plan.database.name}) and the bucket gs://${target.stateBucket} with its snapshots (the stack is not ephemeral)`,
    );
    return;
  }
  const { copyOutFinalSnapshot } = await import('./snapshot/final-snapshot.js');
  await withGcpParts(target, options, (parts) => copyOutFinalSnapshot(plan, parts, events, options.projectDir));
}

/** The release process's side of the GCP target (see providers/target-runtimes.ts). */
export const gcpRuntime = {
  withBackend<T>(plan: ReleasePlan, work: (backend: ReleaseBackend) => Promise<T>): Promise<T> {
    return withGcpBackend(plan, {}, work);
  },
  destroy(plan: ReleasePlan, events: DeployEvents): Promise<void> {
    return destroyGcpStack(plan, events);
  },
};
