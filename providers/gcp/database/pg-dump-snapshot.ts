import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bucket } from '@google-cloud/storage';
import { DeployError } from '../../../components/errors.js';
import type { DeployEvents } from '../../../components/events/deploy-events.js';
import type { ReleasePlan } from '../../../components/release/plan.js';
import { deleteJobOutput, readJobFile, runCloudRunJob } from '../jobs/cloud-run-job.js';
import { JOB_TIMEOUT_SECONDS, gcpJobSpecs, pgDumpArgs } from '../jobs/job-specs.js';
import type { CloudRunStack } from '../run/stack.js';
import { sha256OfFile, storeSnapshot, type GcsSnapshot } from '../snapshot/snapshot-store.js';

/** Why a snapshot is taken, for its messages: what did not happen when it failed, and how to try again. */
export interface SnapshotPurpose {
  /** `no migration ran`, `nothing was destroyed`. */
  consequence: string;
  /** `release again`, `run pulumi destroy again`. */
  retry: string;
}

export const RELEASE_SNAPSHOT: SnapshotPurpose = { consequence: 'no migration ran', retry: 'release again' };
export const FINAL_SNAPSHOT: SnapshotPurpose = { consequence: 'nothing was destroyed', retry: 'run pulumi destroy again' };

/**
 * The pg_dump snapshot of a GCP stack: a Cloud Run job execution next to the services (the
 * release's machine has no path to Cloud SQL) dumps the database and computes the SHA-256 where
 * the dump was made, both into the release-state bucket; the release reads the dump back in full,
 * compares the checksums, then stores it as a verified snapshot (snapshot-store.ts). The release
 * takes one before migrating; `pulumi destroy` of an ephemeral stack takes a final one.
 */
export function pgDumpSnapshots(stack: CloudRunStack, bucket: Bucket) {
  return {
    async take(plan: ReleasePlan, events: DeployEvents, purpose: SnapshotPurpose): Promise<GcsSnapshot> {
      const started = Date.now();
      const takenAt = new Date(Math.floor(started / 1000) * 1000);
      try {
        return await dump(plan, takenAt, events, started, purpose);
      } catch (error) {
        events.emit('snapshot.failed', { database: plan.database.name, bucket: stack.target.stateBucket, error: (error as Error).message }, 'error');
        if (error instanceof DeployError) throw error;
        throw new DeployError(
          `The pg_dump snapshot of ${plan.database.name} failed: ${(error as Error).message}; ${purpose.consequence}`,
          `${purpose.retry}; if it repeats, check the release-state bucket and the Cloud Run job ${gcpJobSpecs(stack.target).pgDump.name}`,
        );
      }
    },
  };

  async function dump(plan: ReleasePlan, takenAt: Date, events: DeployEvents, started: number, purpose: SnapshotPurpose): Promise<GcsSnapshot> {
    const job = gcpJobSpecs(stack.target).pgDump;
    const result = await runCloudRunJob(stack, { job, image: stack.target.snapshotImage, args: pgDumpArgs(plan.snapshots.lockWaitTimeoutMs), timeoutSeconds: JOB_TIMEOUT_SECONDS.dump, what: 'the pg_dump snapshot' });
    const dir = mkdtempSync(join(tmpdir(), 'tk-gcp-snapshot-'));
    try {
      if (!result.succeeded) {
        throw new DeployError(
          `The pg_dump snapshot of ${plan.database.name} failed (${result.message}); ${purpose.consequence}`,
          `see the job's logs: gcloud run jobs executions describe ${result.execution.split('/').pop() ?? ''} --region ${stack.target.region}; fix the cause and ${purpose.retry}`,
        );
      }
      const expected = (await readJobFile(bucket, result.output, 'snapshot.dump.sha256'))?.trim();
      if (!expected) {
        throw new DeployError(
          `The pg_dump job wrote no checksum under gs://${stack.target.stateBucket}/${result.output}/; ${purpose.consequence}`,
          `${purpose.retry}; if it repeats, check that the job may write to the bucket (roles/storage.objectUser)`,
        );
      }
      const local = join(dir, 'snapshot.dump');
      await bucket.file(`${result.output}/snapshot.dump`).download({ destination: local });
      const read = await sha256OfFile(local);
      if (read.sha256 !== expected) {
        throw new DeployError(
          `The dump read back from gs://${stack.target.stateBucket}/${result.output}/snapshot.dump has sha256 ${read.sha256}, but the job computed ${expected}; ${purpose.consequence}`,
          `${purpose.retry}; if it repeats, check the bucket and the network`,
        );
      }
      const stored = await storeSnapshot(bucket, { path: local, database: plan.database.name, takenAt, commit: plan.image.commit });
      events.emit('snapshot.taken', { snapshot: stored.name, database: plan.database.name, bucket: stack.target.stateBucket, size: stored.size, sha256: stored.sha256, durationMs: Date.now() - started });
      return stored;
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await deleteJobOutput(bucket, result.output).catch(() => undefined);
    }
  }
}
