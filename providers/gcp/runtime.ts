import type { DeployEvents } from '../../components/events/deploy-events.js';
import type { ReleasePlan } from '../../components/release/plan.js';
import type { ReleaseBackend } from '../../components/release/ports.js';
import { gcpTargetOf } from './plan-target.js';
import type { CloudRunEndpoint } from './run/clients.js';

export interface GcpBackendOptions {
  /** Tests only: the Cloud Run and Artifact Registry emulators and fake-gcs-server on 127.0.0.1; else Google's APIs with Application Default Credentials. */
  cloudRunEndpoint?: CloudRunEndpoint;
  artifactRegistryEndpoint?: CloudRunEndpoint;
  storageEndpoint?: string;
  progress?: (line: string) => void;
}

/** Runs `work` with the GCP backend of `plan`'s stack and closes its API clients after. */
export async function withGcpBackend<T>(plan: ReleasePlan, options: GcpBackendOptions, work: (backend: ReleaseBackend) => Promise<T>): Promise<T> {
  const target = gcpTargetOf(plan);
  // Loaded only for a GCP release: every release process (Docker's too) loads this module, and
  // the Google clients take a while to load.
  const [{ gcpReleaseBackend }, { cloudRunClients }, { releaseBucket }, { artifactRegistryClient }] = await Promise.all([
    import('./release-backend.js'),
    import('./run/clients.js'),
    import('./storage/release-bucket.js'),
    import('./images/client.js'),
  ]);
  const clients = cloudRunClients(options.cloudRunEndpoint);
  const artifactRegistry = artifactRegistryClient(options.artifactRegistryEndpoint);
  const bucket = releaseBucket({ project: target.project, bucket: target.stateBucket, ...(options.storageEndpoint ? { apiEndpoint: options.storageEndpoint } : {}) });
  try {
    return await work(gcpReleaseBackend(plan, { clients, bucket, artifactRegistry, progress: options.progress ?? ((line) => process.stderr.write(`${line}\n`)) }));
  } finally {
    await Promise.all([clients.close(), artifactRegistry.close()]);
  }
}

/** The release process's side of the GCP target (see providers/target-runtimes.ts). */
export const gcpRuntime = {
  withBackend<T>(plan: ReleasePlan, work: (backend: ReleaseBackend) => Promise<T>): Promise<T> {
    return withGcpBackend(plan, {}, work);
  },
  /** The Cloud Run revisions and the bucket go with their Pulumi resources; nothing of a release is left to remove. */
  async destroy(plan: ReleasePlan, events: DeployEvents): Promise<void> {
    const target = gcpTargetOf(plan);
    if (plan.ephemeral) {
      events.logger.warn(
        { event: 'snapshot.failed', stack: plan.stack, reason: 'no final snapshot on gcp yet' },
        `no final snapshot of ${target.databaseInstance} is taken before it is destroyed (not implemented on GCP yet); take one with \`gcloud sql export sql ${target.databaseInstance} gs://${target.stateBucket}/final.sql.gz --database=${plan.database.name}\` first if you need the data`,
      );
    }
  },
};
