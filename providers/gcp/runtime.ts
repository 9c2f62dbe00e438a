import { DeployError } from '../../components/errors.js';
import type { DeployEvents } from '../../components/events/deploy-events.js';
import type { ReleasePlan } from '../../components/release/plan.js';
import type { ImagesPort, ReleaseBackend } from '../../components/release/ports.js';
import { gcpTargetOf } from './plan-target.js';
import type { CloudRunEndpoint } from './run/clients.js';

/**
 * What the GCP release backend still lacks. The lock (lock/gcs-lock.ts), Cloud Run revisions as
 * slots and traffic tags as routes (slots/, routing/), the gate through tag URLs (gate/) and the
 * database steps as Cloud Run jobs (database/, jobs/) are built and pass the release backend
 * contract against the Cloud Run emulator; the images port is not, so a release is refused
 * before it takes the lock or changes anything, rather than failing after its switch (the
 * pipeline prunes images once users are on the new release).
 */
export const GCP_PORTS_MISSING: readonly string[] = ['images (release images in Artifact Registry: whether one is still kept, when it was built, pruning beyond release.keepReleases)'];

export interface GcpBackendOptions {
  images: ImagesPort;
  /** Tests only: the Cloud Run emulator and fake-gcs-server on 127.0.0.1; else Google's APIs with Application Default Credentials. */
  cloudRunEndpoint?: CloudRunEndpoint;
  storageEndpoint?: string;
  progress?: (line: string) => void;
}

/** Runs `work` with the GCP backend of `plan`'s stack and closes its API clients after. */
export async function withGcpBackend<T>(plan: ReleasePlan, options: GcpBackendOptions, work: (backend: ReleaseBackend) => Promise<T>): Promise<T> {
  const target = gcpTargetOf(plan);
  // Loaded only for a GCP release: every release process (Docker's too) loads this module, and
  // the Google clients take a while to load.
  const [{ gcpReleaseBackend }, { cloudRunClients }, { releaseBucket }] = await Promise.all([import('./release-backend.js'), import('./run/clients.js'), import('./storage/release-bucket.js')]);
  const clients = cloudRunClients(options.cloudRunEndpoint);
  const bucket = releaseBucket({ project: target.project, bucket: target.stateBucket, ...(options.storageEndpoint ? { apiEndpoint: options.storageEndpoint } : {}) });
  try {
    return await work(gcpReleaseBackend(plan, { clients, bucket, images: options.images, progress: options.progress ?? ((line) => process.stderr.write(`${line}\n`)) }));
  } finally {
    await clients.close();
  }
}

/** The release process's side of the GCP target (see providers/target-runtimes.ts). */
export const gcpRuntime = {
  async withBackend<T>(plan: ReleasePlan, _work: (backend: ReleaseBackend) => Promise<T>): Promise<T> {
    const target = gcpTargetOf(plan);
    throw new DeployError(
      `Stack ${plan.stack} targets GCP (project ${target.project}, ${target.region}), whose release steps are not complete in this version of the toolkit: ` +
        `the deploy lock, Cloud Run slots and traffic, the health gate through tag URLs and the database jobs are, but not ${GCP_PORTS_MISSING.join('; ')}. Nothing was changed`,
      'deploy this stack with provider docker for now, or follow issue 16 for the GCP release steps',
    );
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
