import type { Bucket } from '@google-cloud/storage';
import { DeployError } from '../../../components/errors.js';
import { outputTail, parseAppliedMigrations, parseFailedMigration, parseMigrationStatus, summarizeMigrationStatus } from '../../../components/migrate/migration-status.js';
import type { ReleasePlan } from '../../../components/release/plan.js';
import type { DatabasePort, SnapshotRecord } from '../../../components/release/ports.js';
import { deleteJobOutput, readJobFile, runCloudRunJob, type JobResult } from '../jobs/cloud-run-job.js';
import { JOB_TIMEOUT_SECONDS, gcpJobSpecs } from '../jobs/job-specs.js';
import type { CloudRunStack } from '../run/stack.js';
import { applySnapshotRetention } from '../snapshot/retention.js';
import { listSnapshots } from '../snapshot/snapshot-store.js';
import { RELEASE_SNAPSHOT, pgDumpSnapshots } from './pg-dump-snapshot.js';
import { SNAPSHOT_PREFIX } from '../storage/release-bucket.js';

/**
 * The database port on GCP: the migration status, the migrations and the pg_dump snapshot each
 * run as a Cloud Run job execution next to the services (same account, same way to Cloud SQL),
 * never from the release's machine, which has no path to the database. A task writes what the
 * release reads (the status JSON, the migrate summary, the dump and its SHA-256 taken where it
 * was made) into the release-state bucket; the release reads the dump back in full, compares
 * the checksums, then stores it as a verified snapshot (snapshot-store.ts) before any migration.
 */
export function cloudRunDatabase(stack: CloudRunStack, bucket: Bucket, database: string): DatabasePort {
  const jobs = gcpJobSpecs(stack.target);
  const migrateJob = jobs.migrate.name;

  async function appJob(plan: ReleasePlan, args: string[], what: string, timeoutSeconds: number): Promise<{ result: JobResult; output: string }> {
    const result = await runCloudRunJob(stack, { job: jobs.migrate, image: plan.image.ref, args, timeoutSeconds, what });
    const output = (await readJobFile(bucket, result.output, 'output')) ?? '';
    await deleteJobOutput(bucket, result.output);
    return { result, output };
  }

  return {
    async migrationStatus(plan) {
      const { result, output } = await appJob(plan, ['migrate', '--status', '--json'], 'the migration status', JOB_TIMEOUT_SECONDS.status);
      const statuses = parseMigrationStatus(output);
      if (!result.succeeded || !statuses) {
        throw new DeployError(
          `Reading the migration status with ${plan.image.ref} failed (${result.message}):\n${outputTail(output, [])}`,
          `check that the job reaches the database (gcloud run jobs executions describe ${result.execution.split('/').pop() ?? ''} --region ${stack.target.region}); nothing was changed`,
        );
      }
      return summarizeMigrationStatus(statuses);
    },

    async snapshot(plan, events) {
      const taken = await pgDumpSnapshots(stack, bucket).take(plan, events, RELEASE_SNAPSHOT);
      return { name: taken.name, takenAt: taken.takenAt, verified: taken.verified, size: taken.size, ...(taken.sha256 ? { sha256: taken.sha256 } : {}) };
    },

    async migrate(plan, _secrets, events) {
      const started = Date.now();
      const { result, output } = await appJob(plan, ['migrate'], 'the migrations', JOB_TIMEOUT_SECONDS.migrate);
      const applied = parseAppliedMigrations(output);
      if (!result.succeeded || applied === undefined) {
        const failed = parseFailedMigration(output);
        throw new DeployError(
          `Migrating with ${plan.image.ref} failed${failed ? ` at ${failed}` : ''} (${result.message}):\n${outputTail(output, [])}`,
          failed
            ? `fix the migration, then clear it: gcloud run jobs execute ${migrateJob} --region ${stack.target.region} --args=migrate,--resolve,${failed}; the live release keeps serving`
            : `see the job's logs (gcloud run jobs executions list --job ${migrateJob} --region ${stack.target.region}); the live release keeps serving`,
        );
      }
      events.emit('migrated', { ids: applied, image: plan.image.ref, durationMs: Date.now() - started });
      return { applied };
    },

    async applyRetention(plan, now, events) {
      await applySnapshotRetention(bucket, plan.database.name, { retentionDays: plan.snapshots.retentionDays, now, events });
    },

    listSnapshots: async (): Promise<SnapshotRecord[]> => (await listSnapshots(bucket, database)).map(({ name, takenAt, verified }) => ({ name, takenAt, verified })),

    async restoreHint(plan, snapshot) {
      const object = `gs://${stack.target.stateBucket}/${SNAPSHOT_PREFIX}${snapshot.name}`;
      return (
        `restore ${object} (taken ${snapshot.takenAt.toISOString()}) into a new database and swap it in: ` +
        `gcloud storage cp ${object} . && cloud-sql-proxy ${stack.target.project}:${stack.target.region}:${stack.target.databaseInstance} & ` +
        `createdb -h 127.0.0.1 -U ${plan.database.user} ${plan.database.name}_restored && pg_restore -h 127.0.0.1 -U ${plan.database.user} -d ${plan.database.name}_restored --no-owner ${snapshot.name}`
      );
    },
  };
}

