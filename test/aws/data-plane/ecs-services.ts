/**
 * ECS services on the local Docker engine: the scheduler part of the data plane stand-in. moto
 * stores a service's task definition and desiredCount but runs no task, reports runningCount =
 * desiredCount at once and keeps only the deployment it was created with (checked with moto
 * 5.2.5). This stand-in *observes* moto, as ECS's scheduler acts on the service's desired state:
 * every `pollMs` it reads the cluster's services from moto with its own client (so the release's
 * CreateService/UpdateService calls go to moto unchanged, whichever client made them) and
 *   - runs the service's task definition on Docker until desiredCount tasks of it run (container
 *     as ecs-tasks-on-docker.ts starts it: image mapped to a local one, environment, secrets from
 *     moto's Secrets Manager);
 *   - registers each task in moto in the target groups of the service's `loadBalancers` once it
 *     runs, where the target health checker (target-health.ts) starts checking it;
 *   - once the new task definition's tasks are all healthy, deregisters the older ones (draining
 *     for the group's deregistration delay), then stops them with the container's stopTimeout;
 *     desiredCount 0 stops every task the same way;
 *   - answers, through the release's ECS client mock, what ECS would report and moto cannot:
 *     DescribeServices' runningCount, pendingCount and deployments (PRIMARY IN_PROGRESS until its
 *     tasks run and are healthy, then COMPLETED; older ones ACTIVE while their tasks run), and
 *     ListTasks/DescribeTasks of service tasks with their containers' real exit codes. Every other
 *     field of DescribeServices is moto's.
 *
 * Fargate gives each task its own IP (awsvpc); here each task gets its own ports on 127.0.0.1
 * instead, set through the app's host and port variables (a task on the host's network reaches
 * PostgreSQL on 127.0.0.1:5432, which a bridge network could not). The target registered in moto
 * is a private address of the task's own (10.0.x.y, as awsvpc would register) at the container
 * port; `hostPort()` maps it to 127.0.0.1:<port> for the checker and the load balancer stand-in.
 * moto keys targets by id alone, so two tasks on one shared address could not both be registered.
 *
 * Not emulated: the deployment circuit breaker (a task that exits is replaced, without limit),
 * placement, and CloudWatch logs of service tasks.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListServicesCommand,
  ListTasksCommand,
  type Deployment,
  type DescribeServicesCommandOutput,
  type ECSClient,
  type ListTasksCommandInput,
  type Service,
  type Task,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupAttributesCommand,
  RegisterTargetsCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { APP_PORTS } from '../../../components/release/plan.js';
import { docker, dockerRun, type TaskRunner } from '../ecs-tasks-on-docker.js';
import { freePort } from '../moto.js';
import type { TargetHealthChecker, TargetKey } from './target-health.js';

/** The app's variable for each container port, so a task listens on its own port of 127.0.0.1. */
const PORT_VARIABLES: Record<number, string> = {
  [APP_PORTS.sensorApiGrpc]: 'TK_SENSOR_API_PORT',
  [APP_PORTS.sensorApiHttp]: 'TK_SENSOR_API_HTTP_PORT',
  [APP_PORTS.webUi]: 'TK_WEB_UI_PORT',
};

export interface ServicesOnDockerOptions {
  /** Clients of the stand-in's own (not mocked) to moto. */
  ecs: ECSClient;
  elbv2: ElasticLoadBalancingV2Client;
  secrets: SecretsManagerClient;
  /** The local image that stands in for a registry image. */
  image(ref: string): string;
  cluster: string;
  /** Region and account of task ARNs. */
  region: string;
  health: TargetHealthChecker;
  /** How often moto's services are read. @default 100 */
  pollMs?: number;
}

interface ServiceTask {
  task: Task;
  service: string;
  taskDefinitionArn: string;
  address: string;
  container: string;
  /** Container port -> port on 127.0.0.1. */
  ports: Map<number, number>;
  targets: TargetKey[];
  stopping: boolean;
  stopTimeoutSeconds: number;
  exited?: Promise<number>;
}

/** The Docker container of a task (the last part of its ARN is its id). */
const containerOf = (t: ServiceTask) => `tk-awssvc-${t.task.taskArn!.split('/').pop()}`;

interface DeploymentRecord {
  id: string;
  taskDefinition: string;
  createdAt: Date;
  failedTasks: number;
  primary: boolean;
}

export interface EcsServicesOnDocker {
  /** 127.0.0.1's port of a registered target (a task's address and container port). */
  hostPort(address: string, containerPort: number): number | undefined;
  /** Docker container names of a service's tasks that run now. */
  containers(service: string): string[];
  /** The first scheduling error, if any (a failed docker run, moto refusing a call). */
  errors: string[];
  stop(): Promise<void>;
}

export function runEcsServicesOnDocker(runner: TaskRunner, options: ServicesOnDockerOptions): EcsServicesOnDocker {
  const tasksOf = new Map<string, ServiceTask[]>();
  const deploymentsOf = new Map<string, DeploymentRecord[]>();
  const definitions = new Map<string, Promise<TaskDefinition>>();
  const delays = new Map<string, Promise<number>>();
  const errors: string[] = [];
  let addresses = 0;
  let stopped = false;

  const definition = (arn: string) => {
    let found = definitions.get(arn);
    if (!found) {
      found = options.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn })).then((r) => r.taskDefinition!);
      definitions.set(arn, found);
    }
    return found;
  };
  /** The target group's deregistration delay (deregistration_delay.timeout_seconds, 300 s by default). */
  const delayOf = (arn: string) => {
    let found = delays.get(arn);
    if (!found) {
      found = options.elbv2
        .send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }))
        .then((r) => 1000 * Number(r.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value ?? 300));
      delays.set(arn, found);
    }
    return found;
  };
  const live = (service: string) => (tasksOf.get(service) ?? []).filter((t) => !t.stopping && t.task.lastStatus !== 'STOPPED');
  const healthy = (t: ServiceTask) => t.task.lastStatus === 'RUNNING' && t.targets.every((k) => options.health.state(k)?.State === 'healthy');

  /** Keeps the deployments as ECS would: a new PRIMARY whenever the service names another task definition. */
  function observe(service: Service): DeploymentRecord[] {
    const name = service.serviceName!;
    const list = deploymentsOf.get(name) ?? [];
    const primary = list.find((d) => d.primary);
    if (!primary || primary.taskDefinition !== service.taskDefinition) {
      for (const d of list) d.primary = false;
      list.push({ id: `ecs-svc/${BigInt(`0x${randomBytes(8).toString('hex')}`).toString().slice(0, 19)}`, taskDefinition: service.taskDefinition!, createdAt: new Date(), failedTasks: 0, primary: true });
    }
    deploymentsOf.set(name, list);
    return list;
  }

  /** What ECS reports of a service, from its real tasks; the rest is moto's. */
  function describe(service: Service): Service {
    const list = observe(service);
    const tasks = (tasksOf.get(service.serviceName!) ?? []).filter((t) => t.task.lastStatus !== 'STOPPED');
    const isPending = (t: ServiceTask) => t.task.lastStatus === 'PROVISIONING' || t.task.lastStatus === 'PENDING';
    const counts = (td?: string) => {
      const of = tasks.filter((t) => td === undefined || t.taskDefinitionArn === td);
      return { runningCount: of.filter((t) => !isPending(t)).length, pendingCount: of.filter(isPending).length };
    };
    const primary = list.find((d) => d.primary)!;
    const primaryTasks = tasks.filter((t) => t.taskDefinitionArn === primary.taskDefinition && !t.stopping);
    const others = tasks.filter((t) => t.taskDefinitionArn !== primary.taskDefinition);
    const steady = primaryTasks.length === (service.desiredCount ?? 0) && primaryTasks.every(healthy) && others.length === 0;
    const deployments: Deployment[] = list
      .filter((d) => d.primary || counts(d.taskDefinition).runningCount + counts(d.taskDefinition).pendingCount > 0)
      .map((d) => ({
        id: d.id,
        status: d.primary ? 'PRIMARY' : 'ACTIVE',
        taskDefinition: d.taskDefinition,
        desiredCount: d.primary ? (service.desiredCount ?? 0) : 0,
        ...counts(d.taskDefinition),
        failedTasks: d.failedTasks,
        createdAt: d.createdAt,
        updatedAt: new Date(),
        launchType: 'FARGATE',
        rolloutState: d.primary ? (steady ? 'COMPLETED' : 'IN_PROGRESS') : 'COMPLETED',
        rolloutStateReason: d.primary && steady ? `ECS deployment ${d.id} completed.` : `ECS deployment ${d.id} in progress.`,
      }));
    // ECS's own words for a task the load balancer finds unhealthy, newest first as ECS lists events.
    const unhealthy = tasks.flatMap((t) =>
      t.targets.flatMap((key) => {
        const health = options.health.state(key);
        if (health?.State !== 'unhealthy') return [];
        const group = key.targetGroupArn.split(':').pop();
        return [{ id: randomBytes(8).toString('hex'), createdAt: new Date(), message: `(service ${service.serviceName}) (task ${t.task.taskArn!.split('/').pop()}) failed ELB health checks in (${group}): ${health.Reason}: ${health.Description}` }];
      }),
    );
    return { ...service, ...counts(), deployments, events: [...unhealthy, ...(service.events ?? [])] };
  }

  async function register(t: ServiceTask, service: Service): Promise<void> {
    for (const lb of service.loadBalancers ?? []) {
      if (lb.containerName !== t.container || !lb.targetGroupArn || lb.containerPort === undefined) continue;
      const key = { targetGroupArn: lb.targetGroupArn, id: t.address, port: lb.containerPort };
      await options.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: key.targetGroupArn, Targets: [{ Id: key.id, Port: key.port }] }));
      t.targets.push(key);
      options.health.watch(key, (port) => t.ports.get(port));
    }
  }

  async function deregister(t: ServiceTask): Promise<number> {
    let longest = 0;
    for (const key of t.targets) {
      await options.elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: key.targetGroupArn, Targets: [{ Id: key.id, Port: key.port }] }));
      const delay = await delayOf(key.targetGroupArn);
      options.health.drain(key, delay);
      longest = Math.max(longest, delay);
    }
    return longest;
  }

  function finish(t: ServiceTask, code: number, reason: string): void {
    t.task.lastStatus = 'STOPPED';
    t.task.desiredStatus = 'STOPPED';
    t.task.stoppedAt = new Date();
    t.task.stoppingAt ??= t.task.stoppedAt;
    t.task.stoppedReason = reason;
    t.task.containers = [{ name: t.container, lastStatus: 'STOPPED', exitCode: code }];
    void docker(['rm', '-f', containerOf(t)]);
  }

  async function start(service: Service, deployment: DeploymentRecord): Promise<void> {
    const name = service.serviceName!;
    const id = randomBytes(16).toString('hex');
    addresses += 1;
    const t: ServiceTask = {
      task: {
        taskArn: `arn:aws:ecs:${options.region}:123456789012:task/${options.cluster}/${id}`,
        taskDefinitionArn: deployment.taskDefinition,
        group: `service:${name}`,
        startedBy: deployment.id,
        lastStatus: 'PROVISIONING',
        desiredStatus: 'RUNNING',
        launchType: 'FARGATE',
        createdAt: new Date(),
      },
      service: name,
      taskDefinitionArn: deployment.taskDefinition,
      address: `10.0.${10 + Math.floor(addresses / 250)}.${(addresses % 250) + 4}`,
      container: '',
      ports: new Map(),
      targets: [],
      stopping: false,
      stopTimeoutSeconds: 30,
    };
    tasksOf.set(name, [...(tasksOf.get(name) ?? []), t]);
    runner.tasks.set(t.task.taskArn!, t.task);
    const td = await definition(deployment.taskDefinition);
    const containers = td.containerDefinitions ?? [];
    if (containers.length !== 1) throw new Error(`the ECS stand-in runs tasks of one container; ${td.family} has ${containers.length}`);
    const container = containers[0]!;
    t.container = container.name!;
    t.stopTimeoutSeconds = container.stopTimeout ?? 30;
    t.task.containers = [{ name: container.name, lastStatus: 'PENDING' }];
    const environment: Array<{ name: string; value: string }> = [
      { name: 'TK_SENSOR_API_HOST', value: '127.0.0.1' },
      { name: 'TK_WEB_UI_HOST', value: '127.0.0.1' },
      { name: 'TK_WEB_UI_METRICS_HOST', value: '127.0.0.1' },
      { name: 'TK_WEB_UI_METRICS_PORT', value: String(await freePort()) },
    ];
    for (const mapping of container.portMappings ?? []) {
      const variable = PORT_VARIABLES[mapping.containerPort ?? 0];
      if (!variable) throw new Error(`the ECS stand-in knows no app variable for container port ${mapping.containerPort}`);
      const port = await freePort();
      t.ports.set(mapping.containerPort!, port);
      environment.push({ name: variable, value: String(port) });
    }
    const containerName = containerOf(t);
    const { argv, env } = await dockerRun(container, options, { name: containerName, environment, flags: ['--detach', '--label', `tk-aws-service=${name}`] });
    t.task.lastStatus = 'PENDING';
    const run = await docker(argv, env);
    if (run.code !== 0) {
      deployment.failedTasks += 1;
      errors.push(`docker run of ${name}: ${run.output.join(' ').slice(0, 400)}`);
      finish(t, -1, `CannotStartContainerError: ${run.output.join(' ').slice(0, 200)}`);
      return;
    }
    t.exited = new Promise((resolve) => {
      const wait = spawn('docker', ['wait', containerName], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      wait.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
      wait.on('close', () => resolve(Number(out.trim() || -1)));
    });
    void t.exited.then((code) => {
      if (t.stopping || t.task.lastStatus === 'STOPPED') return;
      // An essential container exited on its own: ECS stops the task and starts another.
      deployment.failedTasks += 1;
      void deregister(t).catch(() => undefined);
      finish(t, code, 'Essential container in task exited');
    });
    t.task.lastStatus = 'RUNNING';
    t.task.startedAt = new Date();
    t.task.containers = [{ name: container.name, lastStatus: 'RUNNING' }];
    await register(t, service);
  }

  async function stopTask(t: ServiceTask, reason: string): Promise<void> {
    t.stopping = true;
    t.task.desiredStatus = 'STOPPED';
    t.task.stoppingAt = new Date();
    t.task.lastStatus = 'DEACTIVATING';
    const delay = await deregister(t);
    await sleep(delay);
    t.task.lastStatus = 'STOPPING';
    await docker(['stop', '--time', String(t.stopTimeoutSeconds), containerOf(t)]);
    const code = t.exited ? await t.exited : -1;
    finish(t, code, reason);
  }

  const background = (what: string, work: Promise<unknown>) =>
    void work.catch((error: unknown) => {
      errors.push(`${what}: ${(error as Error).message}`);
    });

  function reconcile(service: Service): void {
    const name = service.serviceName!;
    const list = observe(service);
    const primary = list.find((d) => d.primary)!;
    const desired = service.desiredCount ?? 0;
    const current = live(name);
    const ours = current.filter((t) => t.taskDefinitionArn === primary.taskDefinition);
    const older = current.filter((t) => t.taskDefinitionArn !== primary.taskDefinition);
    for (let i = ours.length; i < desired; i += 1) background(`starting a task of ${name}`, start(service, primary));
    for (const extra of ours.slice(desired)) background(`stopping a task of ${name}`, stopTask(extra, `Scaling activity initiated by (deployment ${primary.id})`));
    if (older.length > 0 && (desired === 0 || (ours.length === desired && ours.every(healthy)))) {
      for (const old of older) background(`stopping a task of ${name}`, stopTask(old, `Scaling activity initiated by (deployment ${primary.id})`));
    }
  }

  const scheduler = (async () => {
    while (!stopped) {
      try {
        const { serviceArns } = await options.ecs.send(new ListServicesCommand({ cluster: options.cluster }));
        for (let at = 0; at < (serviceArns ?? []).length; at += 10) {
          const { services } = await options.ecs.send(new DescribeServicesCommand({ cluster: options.cluster, services: serviceArns!.slice(at, at + 10) }));
          for (const service of services ?? []) if (service.status === 'ACTIVE') reconcile(service);
        }
      } catch (error) {
        // Before the test declares the cluster there is nothing to run.
        if (!stopped && (error as Error).name !== 'ClusterNotFoundException') errors.push(`reading the services: ${(error as Error).message}`);
      }
      await sleep(options.pollMs ?? 100);
    }
  })();

  runner.mock.on(DescribeServicesCommand).callsFake(async (input) => {
    const answer = (await options.ecs.send(new DescribeServicesCommand(input))) as DescribeServicesCommandOutput;
    return { ...answer, services: (answer.services ?? []).map((s) => (s.status === 'ACTIVE' && s.clusterArn?.endsWith(`/${options.cluster}`) ? describe(s) : s)) };
  });
  runner.mock.on(ListTasksCommand).callsFake(async (input: ListTasksCommandInput) => {
    if (!input.serviceName) return options.ecs.send(new ListTasksCommand(input));
    const wanted = input.desiredStatus ?? 'RUNNING';
    const name = input.serviceName.split('/').pop()!;
    return { taskArns: (tasksOf.get(name) ?? []).filter((t) => t.task.desiredStatus === wanted).map((t) => t.task.taskArn!) };
  });

  return {
    hostPort(address, containerPort) {
      for (const list of tasksOf.values()) {
        const t = list.find((x) => x.address === address && x.task.lastStatus !== 'STOPPED');
        if (t) return t.ports.get(containerPort);
      }
      return undefined;
    },
    containers(service) {
      return live(service).map(containerOf);
    },
    errors,
    async stop() {
      stopped = true;
      await scheduler;
      const names = [...tasksOf.values()].flat().map(containerOf);
      if (names.length > 0) await docker(['rm', '-f', ...names]);
    },
  };
}
