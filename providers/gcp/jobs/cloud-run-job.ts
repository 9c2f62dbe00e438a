import { randomBytes } from 'node:crypto';
import type { protos } from '@google-cloud/run';
import type { Bucket } from '@google-cloud/storage';
import { DeployError } from '../../../components/errors.js';
import type { GcpPlanTarget } from '../plan-target.js';
import { waitForOperation } from '../run/operations.js';
import { serviceName, type CloudRunStack } from '../run/stack.js';
import { JOB_OUTPUT_PREFIX, storageErrorCode } from '../storage/release-bucket.js';

/** The stack's two Cloud Run jobs: the app's migrations (and migration status), and pg_dump. */
export function releaseJobIds(target: Pick<GcpPlanTarget, 'services'>): { migrate: string; pgDump: string } {
  const prefix = target.services['web-ui'].replace(/-web-ui$/, '');
  return { migrate: `${prefix}-migrate`, pgDump: `${prefix}-pg-dump` };
}

/** Where a job's task finds the release-state bucket (a Cloud Storage volume, gcsfuse). */
export const STATE_MOUNT = '/release-state';
const STATE_VOLUME = 'release-state';

export interface JobRun {
  /** `<prefix>-migrate`, `<prefix>-pg-dump`: one Cloud Run job per kind, updated for each run. */
  jobId: string;
  image: string;
  /** The task's command; it writes what the release must read under `$TK_JOB_OUTPUT` (a folder in the bucket). */
  command: string[];
  timeoutSeconds: number;
  /** What is being done, for messages: `the migration status`. */
  what: string;
}

export interface JobResult {
  execution: string;
  succeeded: boolean;
  /** Why it failed, as Cloud Run's conditions say (`Task ... failed with exit code 1`). */
  message: string;
  /** The folder (object prefix) the task wrote its output under. */
  output: string;
}

/**
 * Runs one task as a Cloud Run job execution and waits for it (bounded by the task's timeout).
 * The task is the web-ui service's template as Pulumi declared it (service account, database
 * URL, Secret Manager references, the Cloud SQL volume or VPC access) with another image and
 * command, plus the release-state bucket mounted at STATE_MOUNT: Cloud Run keeps no output of
 * an execution but its logs, so a task writes what the release must read into the bucket.
 */
export async function runCloudRunJob(stack: CloudRunStack, run: JobRun): Promise<JobResult> {
  const { clients, target } = stack;
  const parent = `projects/${target.project}/locations/${target.region}`;
  const name = `${parent}/jobs/${run.jobId}`;
  const output = `${JOB_OUTPUT_PREFIX}${run.jobId}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const [service] = await clients.services.getService({ name: serviceName(stack, 'web-ui') });
  const declared = service.template ?? {};
  const container = declared.containers?.[0];
  if (!container) throw new DeployError(`The Cloud Run service ${service.name} has no container to base the ${run.what} job on`, 'run pulumi up again: it declares the services');
  const template = {
    taskCount: 1,
    parallelism: 1,
    template: {
      maxRetries: 0,
      timeout: { seconds: run.timeoutSeconds },
      serviceAccount: declared.serviceAccount ?? '',
      ...(declared.vpcAccess ? { vpcAccess: declared.vpcAccess } : {}),
      volumes: [...(declared.volumes ?? []), { name: STATE_VOLUME, gcs: { bucket: target.stateBucket, readOnly: false } }],
      containers: [
        {
          image: run.image,
          command: run.command,
          env: [...(container.env ?? []).filter((variable) => variable.name !== 'TK_JOB_OUTPUT'), { name: 'TK_JOB_OUTPUT', value: `${STATE_MOUNT}/${output}` }],
          volumeMounts: [...(container.volumeMounts ?? []), { name: STATE_VOLUME, mountPath: STATE_MOUNT }],
        },
      ],
    },
  };
  const fix = `see the execution's logs: gcloud run jobs executions list --job ${run.jobId} --region ${target.region}, then gcloud logging read 'resource.labels.job_name="${run.jobId}"'`;
  try {
    const [existing] = await clients.jobs.getJob({ name }).catch((error: unknown) => {
      if ((error as { code?: number }).code === 5) return [undefined];
      throw error;
    });
    const [operation] = existing
      ? await clients.jobs.updateJob({ job: { name, etag: existing.etag ?? '', template } })
      : await clients.jobs.createJob({ parent, jobId: run.jobId, job: { template } });
    await waitForOperation(operation.name ?? '', (op) => (existing ? clients.jobs.checkUpdateJobProgress(op) : clients.jobs.checkCreateJobProgress(op)), {
      what: `the ${run.jobId} job to be ${existing ? 'updated' : 'created'}`,
      timeoutMs: 120_000,
      fix,
    });
    const [started] = await clients.jobs.runJob({ name });
    stack.progress(`${run.jobId}: running ${run.what} (${run.image})`);
    const execution = await waitForOperation<protos.google.cloud.run.v2.IExecution>(started.name ?? '', (op) => clients.jobs.checkRunJobProgress(op), {
      what: `${run.what} (job ${run.jobId})`,
      timeoutMs: (run.timeoutSeconds + 120) * 1000,
      onProgress: (waited) => stack.progress(`${run.jobId}: ${run.what} still running after ${Math.round(waited / 1000)} s`),
      fix,
    });
    const succeeded = Number(execution?.succeededCount ?? 0) >= 1 && Number(execution?.failedCount ?? 0) === 0;
    const message = (execution?.conditions ?? []).map((c) => c.message).filter(Boolean).join('; ');
    return { execution: execution?.name ?? '', succeeded, message: message || (succeeded ? 'succeeded' : 'failed'), output };
  } catch (error) {
    if (error instanceof DeployError) throw error;
    throw new DeployError(`Running ${run.what} as the Cloud Run job ${run.jobId} failed: ${(error as Error).message}`, `check the release's credentials (roles/run.developer, roles/iam.serviceAccountUser on the services' account); ${fix}`);
  }
}

/** The text a task wrote to `<output>/<file>`, or undefined when it wrote none. */
export async function readJobFile(bucket: Bucket, output: string, file: string): Promise<string | undefined> {
  try {
    const [content] = await bucket.file(`${output}/${file}`).download();
    return content.toString('utf8');
  } catch (error) {
    if (storageErrorCode(error) === 404) return undefined;
    throw error;
  }
}

/** Deletes what a task wrote (its output is read once). */
export async function deleteJobOutput(bucket: Bucket, output: string): Promise<void> {
  const [files] = await bucket.getFiles({ prefix: `${output}/` });
  await Promise.all(files.map((file) => file.delete().catch(() => undefined)));
}
