import { randomBytes } from 'node:crypto';
import type { protos } from '@google-cloud/run';
import type { Bucket } from '@google-cloud/storage';
import { DeployError } from '../../../components/errors.js';
import { waitForOperation } from '../run/operations.js';
import type { CloudRunStack } from '../run/stack.js';
import { JOB_OUTPUT_ENV, STATE_MOUNT, type GcpJobSpec } from './job-specs.js';
import { JOB_OUTPUT_PREFIX, storageErrorCode } from '../storage/release-bucket.js';

export interface JobRun {
  job: GcpJobSpec;
  /** The image the task must run: the job's template is updated to it first when it runs another. */
  image: string;
  /** The container's args for this execution (the app's subcommand, pg_dump's options). */
  args: string[];
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
 * Runs one execution of one of the stack's Cloud Run jobs (declared by GcpTarget: service
 * account, database URL, Secret Manager references, the Cloud SQL volume or VPC access, the
 * release-state bucket at STATE_MOUNT) and waits for it, bounded by the task's timeout. What
 * changes per run goes in the execution's overrides (args, TK_JOB_OUTPUT, timeout); only the
 * image cannot, so the job's template is updated when it names another image than the run's
 * (a rollback outside `pulumi up`, a plan's own snapshot image).
 */
export async function runCloudRunJob(stack: CloudRunStack, run: JobRun): Promise<JobResult> {
  const { clients, target } = stack;
  const name = `projects/${target.project}/locations/${target.region}/jobs/${run.job.name}`;
  const output = `${JOB_OUTPUT_PREFIX}${run.job.name}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const fix = `see the execution's logs: gcloud run jobs executions list --job ${run.job.name} --region ${target.region}, then gcloud logging read 'resource.labels.job_name="${run.job.name}"'`;
  try {
    const [job] = await clients.jobs.getJob({ name }).catch((error: unknown) => {
      if ((error as { code?: number }).code === 5) {
        throw new DeployError(`The Cloud Run job ${run.job.name} for ${run.what} does not exist in ${target.project}/${target.region}`, 'run pulumi up: it declares the stack\'s jobs (migrate, pg-dump) before any release runs');
      }
      throw error;
    });
    await useImage(stack, job, run, fix);
    const [started] = await clients.jobs.runJob({
      name,
      overrides: {
        containerOverrides: [{ name: run.job.container, args: run.args, env: [{ name: JOB_OUTPUT_ENV, value: `${STATE_MOUNT}/${output}` }] }],
        timeout: { seconds: run.timeoutSeconds },
      },
    });
    stack.progress(`${run.job.name}: running ${run.what} (${run.image})`);
    const execution = await waitForOperation<protos.google.cloud.run.v2.IExecution>(started.name ?? '', (op) => clients.jobs.checkRunJobProgress(op), {
      what: `${run.what} (job ${run.job.name})`,
      timeoutMs: (run.timeoutSeconds + 120) * 1000,
      onProgress: (waited) => stack.progress(`${run.job.name}: ${run.what} still running after ${Math.round(waited / 1000)} s`),
      fix,
    });
    const succeeded = Number(execution?.succeededCount ?? 0) >= 1 && Number(execution?.failedCount ?? 0) === 0;
    const message = (execution?.conditions ?? []).map((c) => c.message).filter(Boolean).join('; ');
    return { execution: execution?.name ?? '', succeeded, message: message || (succeeded ? 'succeeded' : 'failed'), output };
  } catch (error) {
    if (error instanceof DeployError) throw error;
    throw new DeployError(`Running ${run.what} as the Cloud Run job ${run.job.name} failed: ${(error as Error).message}`, `check the release's credentials (roles/run.developer, roles/iam.serviceAccountUser on the services' account); ${fix}`);
  }
}

/** Points the job's container at the run's image unless it already runs it (the etag guards against a concurrent change). */
async function useImage(stack: CloudRunStack, job: protos.google.cloud.run.v2.IJob, run: JobRun, fix: string): Promise<void> {
  const containers = job.template?.template?.containers ?? [];
  const index = containers.findIndex((container) => container.name === run.job.container);
  if (index < 0) {
    throw new DeployError(`The Cloud Run job ${run.job.name} has no container named ${run.job.container}`, 'run pulumi up: it declares the stack\'s jobs as the release runs them');
  }
  if (containers[index]!.image === run.image) return;
  const template = { ...job.template, template: { ...job.template?.template, containers: containers.map((container, i) => (i === index ? { ...container, image: run.image } : container)) } };
  const [operation] = await stack.clients.jobs.updateJob({ job: { ...job, template } });
  await waitForOperation(operation.name ?? '', (op) => stack.clients.jobs.checkUpdateJobProgress(op), { what: `the ${run.job.name} job to run ${run.image}`, timeoutMs: 120_000, fix });
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
