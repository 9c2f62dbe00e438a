import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { DescribeTaskDefinitionCommand, RegisterTaskDefinitionCommand, type RegisterTaskDefinitionCommandInput, type TaskDefinition } from '@aws-sdk/client-ecs';
import { DeployError } from '../../../components/errors.js';
import type { DeployEvents } from '../../../components/events/deploy-events.js';
import {
  outputTail,
  parseAppliedMigrations,
  parseFailedMigration,
  parseMigrationStatus,
  summarizeMigrationStatus,
  type PendingMigrations,
} from '../../../components/migrate/migration-status.js';
import type { ReleasePlan } from '../../../components/release/plan.js';
import type { DatabasePort, SnapshotRecord } from '../../../components/release/ports.js';
import type { AwsClients } from '../clients.js';
import type { AwsTargetPlan } from '../plan-target.js';
import { templateFamily } from '../slots/task-definitions.js';
import { ensureSnapshotRetention, listSnapshots, snapshotKey, verifySnapshot, type SnapshotBucket } from '../snapshot/s3-snapshots.js';
import { exitSummary, runOneOffTask, succeeded, type OneOffRun } from '../tasks/one-off-task.js';
import {
  MIGRATE_CONTAINER,
  ONE_OFF_TEMPLATE,
  SNAPSHOT_CONTAINERS,
  SNAPSHOT_UPLOAD_URL_ENV,
  migrateTaskDefinition,
  snapshotTaskDefinition,
  uploadedSnapshot,
} from '../tasks/release-tasks.js';

/** Upper bounds of the one-off tasks, provisioning included (as on Docker: applying may rewrite big tables). */
export const AWS_TASK_TIMEOUTS_MS = { status: 5 * 60_000, migrate: 30 * 60_000, snapshot: 65 * 60_000 } as const;
/** How long the snapshot task's presigned upload URL is valid: its whole time bound. */
const UPLOAD_URL_SECONDS = Math.ceil(AWS_TASK_TIMEOUTS_MS.snapshot / 1000);

export interface EcsDatabaseOptions {
  timeoutsMs?: Partial<Record<keyof typeof AWS_TASK_TIMEOUTS_MS, number>>;
  pollMs?: number;
  now?: () => Date;
}

/**
 * The DatabasePort of an AWS stack: migration status and migrations as one-off ECS tasks of the
 * release image, the pre-migration snapshot as a one-off pg_dump task into the stack's S3 bucket,
 * read back in full and checksummed before anything migrates. The secrets never pass through the
 * release process: the tasks take them from Secrets Manager.
 */
export function ecsDatabase(clients: AwsClients, target: AwsTargetPlan, options: EcsDatabaseOptions = {}): DatabasePort {
  const bucket: SnapshotBucket = { client: clients.s3, bucket: target.snapshotBucket };
  const timeout = (kind: keyof typeof AWS_TASK_TIMEOUTS_MS) => options.timeoutsMs?.[kind] ?? AWS_TASK_TIMEOUTS_MS[kind];
  const networkFrom = target.services[ONE_OFF_TEMPLATE.slot][ONE_OFF_TEMPLATE.service];
  const registered = new Map<string, Promise<TaskDefinition>>();
  const logsHint = `the task's logs: CloudWatch group of ${networkFrom}, streams migrate/ and snapshot/`;

  async function template(): Promise<TaskDefinition> {
    const { taskDefinition } = await clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: templateFamily(target, ONE_OFF_TEMPLATE.slot, ONE_OFF_TEMPLATE.service) }));
    if (!taskDefinition) throw new DeployError(`The task definition ${networkFrom} does not exist`, '`pulumi up` declares it');
    return taskDefinition;
  }

  /** Registers a task definition once per release and kind (a release runs status, snapshot and migrate). */
  function registration(kind: string, plan: ReleasePlan, build: (template: TaskDefinition) => RegisterTaskDefinitionCommandInput): Promise<TaskDefinition> {
    const key = `${kind} ${plan.image.releaseId}`;
    let pending = registered.get(key);
    if (!pending) {
      pending = template().then(async (t) => {
        const { taskDefinition } = await clients.ecs.send(new RegisterTaskDefinitionCommand(build(t)));
        if (!taskDefinition?.taskDefinitionArn) throw new Error(`ECS registered no ${kind} task definition`);
        return taskDefinition;
      });
      pending.catch(() => registered.delete(key));
      registered.set(key, pending);
    }
    return pending;
  }

  async function runMigrate(plan: ReleasePlan, args: string[], kind: 'status' | 'migrate'): Promise<{ run: OneOffRun; output: string }> {
    const definition = await registration('migrate', plan, (t) => migrateTaskDefinition(t, plan, target));
    const run = await runOneOffTask(clients.ecs, clients.logs, definition, {
      cluster: target.cluster,
      networkFrom,
      timeoutMs: timeout(kind),
      ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
      overrides: [{ name: MIGRATE_CONTAINER, command: ['migrate', ...args] }],
      startedBy: `trapperkeeper-${kind}`,
    });
    return { run, output: run.output[MIGRATE_CONTAINER] ?? '' };
  }

  const humanMigrate = (plan: ReleasePlan, extra: string) =>
    `aws ecs run-task --cluster ${target.cluster} --launch-type FARGATE --task-definition ${target.cluster}-migrate ` +
    `--network-configuration "$(aws ecs describe-services --cluster ${target.cluster} --services ${networkFrom} --query 'services[0].networkConfiguration')" ` +
    `--overrides '{"containerOverrides":[{"name":"${MIGRATE_CONTAINER}","command":["migrate"${extra ? `,"${extra}"` : ''}]}]}' (release ${plan.image.releaseId})`;

  return {
    async migrationStatus(plan: ReleasePlan): Promise<PendingMigrations> {
      const { run, output } = await runMigrate(plan, ['--status', '--json'], 'status');
      const statuses = succeeded(run) ? parseMigrationStatus(output) : undefined;
      if (!statuses) {
        throw new DeployError(
          `Cannot read the migration status with ${plan.image.ref} (task ${run.taskArn}: ${exitSummary(run)}):\n  ${outputTail(output, []).replace(/\n/g, '\n  ')}`,
          `check that the tasks reach the database ${target.database} (security groups, TK_DATABASE_URL of the task definition), and ${logsHint}; try: ${humanMigrate(plan, '--status')}`,
        );
      }
      return summarizeMigrationStatus(statuses);
    },

    async snapshot(plan: ReleasePlan, events: DeployEvents): Promise<SnapshotRecord> {
      const started = performance.now();
      await ensureSnapshotRetention(bucket, plan.snapshots.retentionDays);
      const key = snapshotKey(plan.stack, (options.now ?? (() => new Date()))());
      const url = await getSignedUrl(clients.s3, new PutObjectCommand({ Bucket: bucket.bucket, Key: key, IfNoneMatch: '*' }), { expiresIn: UPLOAD_URL_SECONDS });
      const definition = await registration('snapshot', plan, (t) => snapshotTaskDefinition(t, plan, target));
      const run = await runOneOffTask(clients.ecs, clients.logs, definition, {
        cluster: target.cluster,
        networkFrom,
        timeoutMs: timeout('snapshot'),
        ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
        overrides: [{ name: SNAPSHOT_CONTAINERS.upload, environment: [{ name: SNAPSHOT_UPLOAD_URL_ENV, value: url }] }],
        startedBy: 'trapperkeeper-snapshot',
      });
      const sent = succeeded(run) ? uploadedSnapshot(run.output[SNAPSHOT_CONTAINERS.upload] ?? '') : undefined;
      if (!sent) {
        const output = Object.values(SNAPSHOT_CONTAINERS).map((c) => `${c}: ${outputTail(run.output[c] ?? '', [url]).replace(/\n/g, '\n    ')}`).join('\n  ');
        events.logger.error({ event: 'snapshot.failed', task: run.taskArn, exitCodes: run.exitCodes }, 'the snapshot task failed');
        throw new DeployError(
          `The pre-migration snapshot failed (task ${run.taskArn}: ${exitSummary(run)}), so nothing was migrated:\n  ${output}`,
          `fix the cause (${logsHint}; the database ${target.database} must be reachable from the tasks and the bucket ${bucket.bucket} from the task's subnets), then release again with \`pulumi up\``,
        );
      }
      const verified = await verifySnapshot(bucket, key, { recordedSha256: sent.sha256 });
      events.emit('snapshot.taken', { snapshot: key, bucket: bucket.bucket, database: plan.database.name, size: verified.bytes, sha256: verified.sha256, durationMs: Math.round(performance.now() - started) });
      return { name: verified.name, takenAt: verified.takenAt, verified: verified.verified, size: verified.bytes, sha256: verified.sha256 };
    },

    async migrate(plan: ReleasePlan, _secrets, events: DeployEvents) {
      const started = performance.now();
      const { run, output } = await runMigrate(plan, [], 'migrate');
      if (!succeeded(run)) {
        const failed = parseFailedMigration(output);
        events.logger.error({ event: 'migrate.failed', image: plan.image.ref, task: run.taskArn, exitCodes: run.exitCodes, migration: failed }, 'migration failed');
        throw new DeployError(
          `Database migration failed: \`trapperkeeper migrate\` from ${plan.image.ref} (task ${run.taskArn}: ${exitSummary(run)}):\n  ${outputTail(output, []).replace(/\n/g, '\n  ')}`,
          `inspect with ${humanMigrate(plan, '--status')}; fix the cause, clear the failed record (command "migrate","--resolve","${failed ?? '<id>'}"), ` +
            'then run the release again (restore the pre-migration snapshot first if the data was damaged)',
        );
      }
      const applied = parseAppliedMigrations(output) ?? [];
      events.emit('migrated', { ids: applied, image: plan.image.ref, durationMs: Math.round(performance.now() - started) });
      return { applied };
    },

    async applyRetention(plan: ReleasePlan, _now: Date, events: DeployEvents) {
      // S3's lifecycle rule deletes expired snapshots; the release checks it is the stack's.
      await ensureSnapshotRetention(bucket, plan.snapshots.retentionDays);
      events.logger.info({ bucket: bucket.bucket, retentionDays: plan.snapshots.retentionDays }, 'snapshot retention is the bucket\'s lifecycle rule; the newest verified snapshot never expires');
    },

    listSnapshots: () => listSnapshots(bucket),

    async restoreHint(plan: ReleasePlan, snapshot: SnapshotRecord) {
      return (
        `aws s3 cp s3://${bucket.bucket}/${snapshot.name} snapshot.dump, then from a host or one-off task that reaches the RDS instance ${target.database}: ` +
        `pg_restore --clean --if-exists --no-owner --dbname=${plan.database.name} --username=${plan.database.user} --host=<its endpoint> snapshot.dump`
      );
    },
  };
}
