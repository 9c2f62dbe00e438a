/**
 * moto's RunTask fails on Fargate (HTTP 500) and it runs no container, so RunTask and DescribeTasks
 * are mocked here (aws-sdk-client-mock) by what ECS does: the task definition (read from moto) is
 * run container by container on the local Docker engine, with its image, entry point, command and
 * environment as the definition and the run's overrides give them, its secrets read from Secrets
 * Manager (moto) by their ARNs, its volumes as Docker volumes, dependsOn SUCCESS honoured, and each
 * container's output put into CloudWatch Logs (moto) where the awslogs driver would. DescribeTasks
 * reports the real exit codes. Every other ECS call goes to moto.
 *
 * Containers use the host's network (they reach PostgreSQL on 127.0.0.1:5432 and moto's S3 by its
 * 127.0.0.1 URL) and publish nothing. Registry images are mapped to local stand-ins by `images`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { CreateLogStreamCommand, PutLogEventsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTaskDefinitionCommand, DescribeTasksCommand, RunTaskCommand, type ContainerDefinition, type ECSClient, type ECSClientResolvedConfig, type RunTaskCommandInput, type ServiceOutputTypes, type Task } from '@aws-sdk/client-ecs';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { logStreamOf } from '../../providers/aws/tasks/one-off-task.js';

export interface TaskRunner {
  /** Every task run so far, with the docker argv of each container (to check nothing secret is on one). */
  runs: Array<{ taskArn: string; family: string; argv: string[][]; done: Promise<void> }>;
  /** What DescribeTasks answers from, by task ARN: the one-off tasks, and any a service stand-in adds. */
  tasks: Map<string, Task>;
  /** The client mock, for more ECS calls a stand-in answers (test/aws/data-plane/). */
  mock: AwsStub<object, ServiceOutputTypes, ECSClientResolvedConfig>;
  restore(): void;
}

export interface Options {
  logs: CloudWatchLogsClient;
  secrets: SecretsManagerClient;
  /** The local image that stands in for a registry image. */
  image(ref: string): string;
  /** Region and account of task ARNs. */
  region: string;
}

export function docker(args: string[], env: Record<string, string> = {}): Promise<{ code: number; output: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    let partial = { out: '', err: '' };
    const collect = (which: 'out' | 'err') => (chunk: Buffer) => {
      const text = partial[which] + chunk.toString('utf8');
      const lines = text.split('\n');
      partial = { ...partial, [which]: lines.pop() ?? '' };
      output.push(...lines);
    };
    child.stdout.on('data', collect('out'));
    child.stderr.on('data', collect('err'));
    child.on('error', reject);
    child.on('close', (code) => {
      for (const rest of [partial.out, partial.err]) if (rest) output.push(rest);
      resolve({ code: code ?? -1, output });
    });
  });
}

/** How to run one container of a task definition: `docker run` argv and the values of its `-e NAME`s. */
export interface ContainerRun {
  name: string;
  /** Added to (and overriding) the definition's environment. */
  environment: ReadonlyArray<{ name?: string; value?: string }>;
  command?: string[];
  /** `--volume` specs. */
  volumes?: string[];
  /** Extra `docker run` flags before the image (`--detach`). */
  flags?: string[];
}

/**
 * The `docker run` of a container as ECS would start it: its image (mapped to a local stand-in),
 * entry point, command, environment, and its secrets read from Secrets Manager by their ARNs. The
 * values stay in the docker CLI's environment (`-e NAME` only), as ECS never puts them on a command line.
 */
export async function dockerRun(container: ContainerDefinition, options: Pick<Options, 'secrets' | 'image'>, run: ContainerRun): Promise<{ argv: string[]; env: Record<string, string> }> {
  const env: Record<string, string> = {};
  for (const pair of [...(container.environment ?? []), ...run.environment]) env[pair.name!] = pair.value ?? '';
  for (const secret of container.secrets ?? []) {
    env[secret.name!] = (await options.secrets.send(new GetSecretValueCommand({ SecretId: secret.valueFrom! }))).SecretString ?? '';
  }
  const entryPoint = container.entryPoint ?? [];
  const command = run.command ?? container.command ?? [];
  const argv = [
    'run', '--name', run.name, '--network', 'host', '--label', 'tk-aws-task=1',
    ...(run.flags ?? []),
    ...(container.user ? ['--user', container.user] : []),
    ...(entryPoint.length > 0 ? ['--entrypoint', entryPoint[0]!] : []),
    ...Object.keys(env).flatMap((key) => ['-e', key]),
    ...(run.volumes ?? []).flatMap((v) => ['--volume', v]),
    options.image(container.image ?? ''),
    ...entryPoint.slice(1),
    ...command,
  ];
  return { argv, env };
}

export function runEcsTasksOnDocker(ecs: ECSClient, options: Options): TaskRunner {
  const original = ecs.send.bind(ecs) as (command: unknown) => Promise<unknown>;
  const mock = mockClient(ecs);
  mock.send.callThrough();
  const tasks = new Map<string, Task>();
  const runs: TaskRunner['runs'] = [];

  async function runContainer(taskId: string, taskArn: string, container: ContainerDefinition, input: RunTaskCommandInput, volumes: Map<string, string>): Promise<{ code: number; argv: string[] }> {
    const override = input.overrides?.containerOverrides?.find((o) => o.name === container.name);
    const name = `tk-awstask-${taskId}-${container.name}`;
    const { argv, env } = await dockerRun(container, options, {
      name,
      environment: override?.environment ?? [],
      ...(override?.command ? { command: override.command } : {}),
      volumes: (container.mountPoints ?? []).map((m) => `${volumes.get(m.sourceVolume!)}:${m.containerPath}${m.readOnly ? ':ro' : ''}`),
    });
    const result = await docker(argv, env);
    await docker(['rm', '-f', name]);
    const logOptions = container.logConfiguration?.options;
    if (logOptions?.['awslogs-group'] && logOptions['awslogs-stream-prefix']) {
      const stream = logStreamOf(logOptions['awslogs-stream-prefix'], container.name!, taskArn);
      await options.logs.send(new CreateLogStreamCommand({ logGroupName: logOptions['awslogs-group'], logStreamName: stream }));
      const lines = result.output.filter((line) => line.length > 0);
      const now = Date.now();
      for (let at = 0; at < lines.length; at += 1000) {
        await options.logs.send(
          new PutLogEventsCommand({ logGroupName: logOptions['awslogs-group'], logStreamName: stream, logEvents: lines.slice(at, at + 1000).map((message) => ({ message, timestamp: now })) }),
        );
      }
    }
    return { code: result.code, argv };
  }

  mock.on(RunTaskCommand).callsFake(async (input: RunTaskCommandInput) => {
    const { taskDefinition } = (await original(new DescribeTaskDefinitionCommand({ taskDefinition: input.taskDefinition! }))) as { taskDefinition: NonNullable<Task['overrides']> & { family?: string; taskDefinitionArn?: string; containerDefinitions?: ContainerDefinition[]; volumes?: Array<{ name?: string }> } };
    const taskId = randomBytes(16).toString('hex');
    const taskArn = `arn:aws:ecs:${options.region}:123456789012:task/${input.cluster}/${taskId}`;
    const containers = taskDefinition.containerDefinitions ?? [];
    const task: Task = { taskArn, taskDefinitionArn: taskDefinition.taskDefinitionArn, lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', startedBy: input.startedBy, containers: containers.map((c) => ({ name: c.name, lastStatus: 'PENDING' })) };
    tasks.set(taskArn, task);
    const argvs: string[][] = [];
    const done = (async () => {
      const volumes = new Map<string, string>();
      for (const volume of taskDefinition.volumes ?? []) {
        const name = `tk-awstask-${taskId}-${volume.name}`;
        await docker(['volume', 'create', name]);
        volumes.set(volume.name!, name);
      }
      task.lastStatus = 'RUNNING';
      const exit = new Map<string, number>();
      let stoppedReason = 'Essential container in task exited';
      try {
        for (const container of containers) {
          const blocked = (container.dependsOn ?? []).find((d) => d.condition === 'SUCCESS' && exit.get(d.containerName!) !== 0);
          if (blocked) {
            stoppedReason = `Container ${container.name} did not start: its dependency ${blocked.containerName} did not succeed`;
            continue;
          }
          const { code, argv } = await runContainer(taskId, taskArn, container, input, volumes);
          argvs.push(argv);
          exit.set(container.name!, code);
        }
      } finally {
        for (const name of volumes.values()) await docker(['volume', 'rm', '-f', name]);
        task.containers = containers.map((c) => ({ name: c.name, lastStatus: 'STOPPED', ...(exit.has(c.name!) ? { exitCode: exit.get(c.name!) } : {}) }));
        task.lastStatus = 'STOPPED';
        task.desiredStatus = 'STOPPED';
        task.stoppedReason = stoppedReason;
        task.stoppedAt = new Date();
      }
    })();
    runs.push({ taskArn, family: taskDefinition.family ?? '', argv: argvs, done });
    return { tasks: [{ ...task }], failures: [] };
  });

  mock.on(DescribeTasksCommand).callsFake(async (input: { tasks?: string[] }) => ({
    tasks: (input.tasks ?? []).map((arn) => tasks.get(arn)).filter(Boolean).map((t) => ({ ...t })),
    failures: (input.tasks ?? []).filter((arn) => !tasks.has(arn)).map((arn) => ({ arn, reason: 'MISSING' })),
  }));

  return {
    runs,
    tasks,
    mock,
    restore: () => mock.restore(),
  };
}
