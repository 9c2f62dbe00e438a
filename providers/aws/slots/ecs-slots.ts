import {
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type ECSClient,
  type Service,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeployError } from '../../../components/errors.js';
import { APP_SERVICES, type AppService, type ReleasePlan, type Slot, type StandbyMode } from '../../../components/release/plan.js';
import type { DrainReport, SlotRecord, SlotsPort } from '../../../components/release/ports.js';
import type { AwsTargetPlan } from '../plan-target.js';
import { waitForRollout, type RolloutTarget } from './rollout.js';
import { releaseFamily, releaseOfTaskDefinition, releaseTaskDefinition, templateFamily } from './task-definitions.js';

export interface EcsSlotsOptions {
  /** Upper bound of a start or resume. @default DEFAULT_ROLLOUT_TIMEOUT_MS */
  rolloutTimeoutMs?: number;
  /** How often the services are polled while they settle. @default DEFAULT_ROLLOUT_POLL_MS */
  pollMs?: number;
  /** How long the old slot's tasks get to drain and stop once parked: the release's drain timeout plus ECS's own stop. */
  drainTimeoutMs: number;
  progress?: (fields: Record<string, unknown>, message: string) => void;
  now?: () => Date;
}

/** Seconds ECS needs beyond the drain to deregister the targets and stop the tasks. */
const STOP_GRACE_MS = 30_000;

/**
 * The SlotsPort on ECS: a slot is the pair of services (sensor-api, web-ui) the stack declares
 * for it. Starting registers the release's task definitions (task-definitions.ts) and updates the
 * slot's services to them; parking `stopped` scales them to zero tasks, keeping the task
 * definition, so resuming is a scale-up without a new registration; `running` leaves them up.
 */
export function ecsSlots(ecs: ECSClient, target: AwsTargetPlan, options: EcsSlotsOptions): SlotsPort {
  const cluster = target.cluster;
  const serviceName = (slot: Slot, service: AppService) => target.services[slot][service];
  const now = options.now ?? (() => new Date());
  const fix = (slot: Slot) =>
    `users still reach the live slot; see why with \`aws ecs describe-services --cluster ${cluster} --services ${APP_SERVICES.map((s) => serviceName(slot, s)).join(' ')} --query 'services[].events[:5]'\` ` +
    `and the tasks' logs (CloudWatch), fix the cause and release again with \`pulumi up\``;

  async function services(slot: Slot): Promise<Record<AppService, Service>> {
    const names = APP_SERVICES.map((s) => serviceName(slot, s));
    const { services: found } = await ecs.send(new DescribeServicesCommand({ cluster, services: names }));
    const byService = {} as Record<AppService, Service>;
    for (const service of APP_SERVICES) {
      const match = found?.find((s) => s.serviceName === serviceName(slot, service) && s.status === 'ACTIVE');
      if (!match) {
        throw new DeployError(`The ECS service ${serviceName(slot, service)} does not exist in cluster ${cluster} (${target.region})`, '`pulumi up` declares it (run `pulumi refresh` first if it was deleted by hand)');
      }
      byService[service] = match;
    }
    return byService;
  }

  async function definition(arn: string): Promise<TaskDefinition> {
    const { taskDefinition } = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
    if (!taskDefinition) throw new DeployError(`The task definition ${arn} cannot be described`, '`pulumi up` declares the task definitions');
    return taskDefinition;
  }

  async function wait(slot: Slot, targets: RolloutTarget[]): Promise<void> {
    await waitForRollout(ecs, targets, {
      cluster,
      ...(options.rolloutTimeoutMs !== undefined ? { timeoutMs: options.rolloutTimeoutMs } : {}),
      ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
      progress: (details) => options.progress?.({ event: 'slot.progress', slot, services: details }, `waiting for the ${slot} slot's services to settle`),
      fix: fix(slot),
      subject: `The ${slot} slot`,
    });
  }

  async function describe(slot: Slot): Promise<SlotRecord | undefined> {
    const current = await services(slot);
    const releases = await Promise.all(APP_SERVICES.map(async (service) => releaseOfTaskDefinition(await definition(current[service].taskDefinition ?? ''), service)));
    const [first, ...rest] = releases;
    // A slot holds a release only when every service of it runs that release (a failed start may leave one behind).
    if (!first || rest.some((r) => r?.plan.image.releaseId !== first.plan.image.releaseId)) return undefined;
    return { slot, plan: first.plan, startedAt: first.startedAt, running: APP_SERVICES.every((service) => (current[service].desiredCount ?? 0) > 0) };
  }

  return {
    describe,

    async start(plan: ReleasePlan, slot: Slot) {
      const startedAt = now();
      const targets: RolloutTarget[] = [];
      for (const service of APP_SERVICES) {
        const template = await definition(templateFamily(target, slot, service));
        const { taskDefinition } = await ecs.send(new RegisterTaskDefinitionCommand(releaseTaskDefinition(template, plan, releaseFamily(target, slot, service), service, startedAt)));
        if (!taskDefinition?.taskDefinitionArn) throw new Error(`ECS registered no task definition for ${releaseFamily(target, slot, service)}`);
        targets.push({ service: serviceName(slot, service), taskDefinition: taskDefinition.taskDefinitionArn, desiredCount: desiredCountOf(plan, service) });
      }
      for (const t of targets) {
        await ecs.send(new UpdateServiceCommand({ cluster, service: t.service, taskDefinition: t.taskDefinition, desiredCount: t.desiredCount }));
      }
      options.progress?.({ event: 'slot.starting', slot, release: plan.image.releaseId, taskDefinitions: targets.map((t) => t.taskDefinition) }, `starting the ${slot} slot with ${plan.image.releaseId}`);
      await wait(slot, targets);
    },

    async resume(plan: ReleasePlan, slot: Slot) {
      const record = await describe(slot);
      if (record?.plan.image.releaseId !== plan.image.releaseId) {
        throw new DeployError(
          `The ${slot} slot holds ${record ? record.plan.image.releaseId : 'no release'}, not ${plan.image.releaseId}, so it cannot be resumed with it`,
          'release again with `pulumi up` (a release starts the idle slot afresh)',
        );
      }
      const current = await services(slot);
      const targets = APP_SERVICES.map((service) => ({ service: serviceName(slot, service), taskDefinition: current[service].taskDefinition ?? '', desiredCount: desiredCountOf(plan, service) }));
      for (const t of targets) {
        const running = current[APP_SERVICES.find((s) => serviceName(slot, s) === t.service) as AppService];
        if ((running.desiredCount ?? 0) !== t.desiredCount) await ecs.send(new UpdateServiceCommand({ cluster, service: t.service, desiredCount: t.desiredCount }));
      }
      await wait(slot, targets);
    },

    async park(slot: Slot, standby: StandbyMode): Promise<DrainReport> {
      const names = APP_SERVICES.map((service) => serviceName(slot, service));
      if (standby === 'running') return { slot, clean: true, details: names.map((name) => `${name}: standby (running, unrouted)`) };
      const parkedAt = now();
      for (const name of names) await ecs.send(new UpdateServiceCommand({ cluster, service: name, desiredCount: 0 }));
      const deadline = Date.now() + options.drainTimeoutMs + STOP_GRACE_MS;
      const details: string[] = [];
      let clean = true;
      for (;;) {
        const current = await services(slot);
        const left = APP_SERVICES.filter((service) => (current[service].runningCount ?? 0) + (current[service].pendingCount ?? 0) > 0);
        if (left.length === 0) break;
        if (Date.now() >= deadline) {
          clean = false;
          details.push(...left.map((service) => `${serviceName(slot, service)}: ${current[service].runningCount ?? 0} tasks still running after ${Math.round((options.drainTimeoutMs + STOP_GRACE_MS) / 1000)} s`));
          break;
        }
        await sleep(options.pollMs ?? 2_000);
      }
      // How the tasks ended: a container that did not exit 0 was cut off (SIGKILL) mid-drain.
      for (const name of names) {
        const stopped = await stoppedTasks(ecs, cluster, name, parkedAt);
        const killed = stopped.filter((t) => t.exitCodes.some((code) => code !== 0));
        if (killed.length > 0) clean = false;
        details.push(
          killed.length > 0
            ? `${name}: ${killed.length} of ${stopped.length} tasks did not exit cleanly (${killed.map((t) => `${t.id}: exit ${t.exitCodes.join('/')}${t.reason ? `, ${t.reason}` : ''}`).join('; ')})`
            : `${name}: drained and stopped${stopped.length > 0 ? ` (${stopped.length} tasks exited 0)` : ''}`,
        );
      }
      return { slot, clean, details };
    },

    async remove(slot: Slot) {
      const current = await services(slot);
      for (const service of APP_SERVICES) {
        const template = await definition(templateFamily(target, slot, service));
        const running = current[service].taskDefinition;
        await ecs.send(new UpdateServiceCommand({ cluster, service: serviceName(slot, service), taskDefinition: template.taskDefinitionArn, desiredCount: 0 }));
        if (running && running !== template.taskDefinitionArn && (await definition(running)).family === releaseFamily(target, slot, service)) {
          await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: running }));
        }
      }
    },
  };
}

function desiredCountOf(plan: ReleasePlan, service: AppService): number {
  const counts = (plan.target as { desiredCount?: Partial<Record<AppService, number>> }).desiredCount;
  const count = counts?.[service];
  if (count === undefined) throw new DeployError(`The release plan of ${plan.image.releaseId} names no task count for ${service}`, 'release again with `pulumi up` (plans now carry aws.desiredCount)');
  return count;
}

interface StoppedTask {
  id: string;
  exitCodes: number[];
  reason?: string;
}

/** The tasks of a service that stopped since `since`, with their containers' exit codes. */
async function stoppedTasks(ecs: ECSClient, cluster: string, serviceName: string, since: Date): Promise<StoppedTask[]> {
  const { taskArns } = await ecs.send(new ListTasksCommand({ cluster, serviceName, desiredStatus: 'STOPPED' }));
  if (!taskArns || taskArns.length === 0) return [];
  const { tasks } = await ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns.slice(0, 100) }));
  return (tasks ?? [])
    .filter((task) => (task.stoppingAt ?? task.stoppedAt ?? new Date(0)).getTime() >= since.getTime() - 1_000)
    .map((task) => ({
      id: (task.taskArn ?? '').split('/').pop() ?? '?',
      exitCodes: (task.containers ?? []).map((c) => c.exitCode ?? -1),
      ...(task.stoppedReason ? { reason: task.stoppedReason } : {}),
    }));
}
