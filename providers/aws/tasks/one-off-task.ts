import { setTimeout as sleep } from 'node:timers/promises';
import { GetLogEventsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  RunTaskCommand,
  type ContainerOverride,
  type ECSClient,
  type NetworkConfiguration,
  type Task,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { DeployError } from '../../../components/errors.js';

/**
 * A one-off ECS task (migration status, migrations, the pre-migration snapshot): RunTask on the
 * stack's cluster in the tasks' own subnets and security group (so it reaches the database as the
 * services do), wait until it is STOPPED, and read what each container printed from CloudWatch
 * Logs (the awslogs driver of its task definition). Success is every essential container (and
 * every one the others depend on) exiting 0; anything else is the caller's failure to report.
 */
export interface OneOffRun {
  taskArn: string;
  /** Exit code per container; undefined for a container that never ran (a failed dependency, a task that could not start). */
  exitCodes: Record<string, number | undefined>;
  stoppedReason: string;
  /** What each container printed (stdout and stderr, as the log driver got them). */
  output: Record<string, string>;
}

/** Provisioning (image pull, ENI) plus the work. */
export const DEFAULT_ONE_OFF_POLL_MS = 3_000;

export interface OneOffOptions {
  cluster: string;
  /** A service whose network configuration the task takes (private subnets, the tasks' security group). */
  networkFrom: string;
  timeoutMs: number;
  pollMs?: number;
  overrides?: ContainerOverride[];
  /** Who started it, shown by ECS (`trapperkeeper-migrate`). */
  startedBy: string;
}

export async function networkOf(ecs: ECSClient, cluster: string, service: string): Promise<NetworkConfiguration> {
  const { services } = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
  const network = services?.[0]?.networkConfiguration;
  if (!network?.awsvpcConfiguration?.subnets?.length) {
    throw new DeployError(`The ECS service ${service} has no network configuration to run one-off tasks in`, '`pulumi up` declares the services with their subnets and security group');
  }
  return network;
}

export async function runOneOffTask(ecs: ECSClient, logs: CloudWatchLogsClient, definition: TaskDefinition, options: OneOffOptions): Promise<OneOffRun> {
  const arn = definition.taskDefinitionArn ?? '';
  const networkConfiguration = await networkOf(ecs, options.cluster, options.networkFrom);
  const started = await ecs.send(
    new RunTaskCommand({
      cluster: options.cluster,
      taskDefinition: arn,
      launchType: 'FARGATE',
      count: 1,
      startedBy: options.startedBy,
      networkConfiguration,
      ...(options.overrides ? { overrides: { containerOverrides: options.overrides } } : {}),
    }),
  );
  const taskArn = started.tasks?.[0]?.taskArn;
  if (!taskArn) {
    const reasons = (started.failures ?? []).map((f) => `${f.arn ?? ''} ${f.reason ?? ''} ${f.detail ?? ''}`.trim()).join('; ');
    throw new DeployError(`ECS did not start the one-off task ${arn}: ${reasons || 'no task and no reason returned'}`, `check the cluster ${options.cluster} and its capacity (aws ecs describe-clusters --clusters ${options.cluster}), then release again`);
  }
  const deadline = Date.now() + options.timeoutMs;
  let task: Task | undefined;
  for (;;) {
    task = (await ecs.send(new DescribeTasksCommand({ cluster: options.cluster, tasks: [taskArn] }))).tasks?.[0];
    if (task?.lastStatus === 'STOPPED') break;
    if (Date.now() >= deadline) {
      throw new DeployError(
        `The one-off task ${taskArn} (${definition.family}) did not finish within ${Math.round(options.timeoutMs / 1000)} s (last status ${task?.lastStatus ?? 'unknown'})`,
        `look at it with \`aws ecs describe-tasks --cluster ${options.cluster} --tasks ${taskArn}\`; stop it with \`aws ecs stop-task --cluster ${options.cluster} --task ${taskArn}\` if it hangs, then release again`,
      );
    }
    await sleep(Math.min(options.pollMs ?? DEFAULT_ONE_OFF_POLL_MS, Math.max(0, deadline - Date.now())));
  }
  const exitCodes: Record<string, number | undefined> = {};
  const output: Record<string, string> = {};
  for (const container of definition.containerDefinitions ?? []) {
    const name = container.name ?? '';
    exitCodes[name] = task.containers?.find((c) => c.name === name)?.exitCode;
    output[name] = await containerLog(logs, container.logConfiguration?.options, name, taskArn);
  }
  return { taskArn, exitCodes, stoppedReason: task.stoppedReason ?? '', output };
}

/** `<prefix>/<container>/<task id>`: the stream the awslogs driver writes a task's container to. */
export function logStreamOf(prefix: string, container: string, taskArn: string): string {
  return `${prefix}/${container}/${taskArn.split('/').pop() ?? ''}`;
}

async function containerLog(logs: CloudWatchLogsClient, options: Record<string, string> | undefined, container: string, taskArn: string): Promise<string> {
  const group = options?.['awslogs-group'];
  const prefix = options?.['awslogs-stream-prefix'];
  if (!group || !prefix) return '';
  const lines: string[] = [];
  let token: string | undefined;
  try {
    for (let page = 0; page < 50; page += 1) {
      const result = await logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: logStreamOf(prefix, container, taskArn), startFromHead: true, nextToken: token }));
      lines.push(...(result.events ?? []).map((e) => e.message ?? ''));
      if (!result.nextForwardToken || result.nextForwardToken === token || (result.events ?? []).length === 0) break;
      token = result.nextForwardToken;
    }
  } catch (error) {
    // A container that never started has no stream; its exit code says so.
    if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
  }
  return lines.join('\n');
}

/** Whether every container of the task ran and exited 0. */
export function succeeded(run: OneOffRun): boolean {
  const codes = Object.values(run.exitCodes);
  return codes.length > 0 && codes.every((code) => code === 0);
}

/** One line per container for an error message: `dump: exit 1`, `upload: never ran`. */
export function exitSummary(run: OneOffRun): string {
  const codes = Object.entries(run.exitCodes).map(([name, code]) => `${name}: ${code === undefined ? 'never ran' : `exit ${code}`}`);
  return `${codes.join(', ')}${run.stoppedReason ? ` (${run.stoppedReason})` : ''}`;
}
