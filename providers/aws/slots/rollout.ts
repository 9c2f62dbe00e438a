import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeServicesCommand, type ECSClient, type Service } from '@aws-sdk/client-ecs';
import { DeployError } from '../../../components/errors.js';

/** What a service shows while the release waits for it to settle. */
export type RolloutOutcome = { state: 'steady'; detail: string } | { state: 'progressing'; detail: string } | { state: 'failed'; detail: string };

/** What a service must settle at: the task definition it runs and how many tasks. */
export interface RolloutTarget {
  service: string;
  taskDefinition: string;
  desiredCount: number;
}

/** Upper bound of a slot's start (tasks pulled, started, healthy in their target groups). */
export const DEFAULT_ROLLOUT_TIMEOUT_MS = 15 * 60_000;
export const DEFAULT_ROLLOUT_POLL_MS = 5_000;

function lastEvents(service: Service, count = 2): string {
  const messages = (service.events ?? []).slice(0, count).map((e) => e.message).filter(Boolean);
  return messages.length > 0 ? `; latest events: ${messages.join(' | ')}` : '';
}

/**
 * Pure: how far a service got towards running `target`. ECS lists a deployment per task
 * definition a service runs or ran lately; the one of the target's task definition becomes
 * PRIMARY at once and COMPLETED when its tasks are steady. A circuit breaker that gives up marks
 * it FAILED and, with rollback on, points the service back at the task definition before it:
 * either is a failure, never a success. An emulator that keeps no deployments (moto) is judged by
 * the service's own counts.
 */
export function rolloutOutcome(service: Service | undefined, target: RolloutTarget): RolloutOutcome {
  if (!service || service.status !== 'ACTIVE') return { state: 'failed', detail: `${target.service}: no such active service` };
  const deployments = service.deployments ?? [];
  const ours = deployments.filter((d) => d.taskDefinition === target.taskDefinition);
  const failed = ours.find((d) => d.rolloutState === 'FAILED');
  if (failed) return { state: 'failed', detail: `${target.service}: the deployment of ${target.taskDefinition} failed (${failed.rolloutStateReason ?? 'no reason given'})${lastEvents(service)}` };
  if (service.taskDefinition !== target.taskDefinition) {
    return { state: 'failed', detail: `${target.service}: runs ${service.taskDefinition ?? 'nothing'} instead of ${target.taskDefinition}: its deployment was rolled back (deployment circuit breaker)${lastEvents(service)}` };
  }
  const counts = `${service.runningCount ?? 0} of ${target.desiredCount} tasks running, ${service.pendingCount ?? 0} pending`;
  const primary = ours.find((d) => d.status === 'PRIMARY');
  const others = deployments.filter((d) => d !== primary && (d.runningCount ?? 0) + (d.pendingCount ?? 0) > 0);
  const countsSettled = service.desiredCount === target.desiredCount && service.runningCount === target.desiredCount && (service.pendingCount ?? 0) === 0;
  if (ours.length === 0 && deployments.length > 0 && deployments.every((d) => d.taskDefinition !== service.taskDefinition)) {
    // No deployment of the task definition the service runs: an emulator's bookkeeping.
    return countsSettled ? { state: 'steady', detail: `${target.service}: ${counts}` } : { state: 'progressing', detail: `${target.service}: ${counts}` };
  }
  if (!primary) return { state: 'progressing', detail: `${target.service}: no deployment of ${target.taskDefinition} yet; ${counts}` };
  const failedTasks = primary.failedTasks ? `, ${primary.failedTasks} tasks failed to start` : '';
  const rollout = primary.rolloutState ?? 'IN_PROGRESS';
  if (countsSettled && others.length === 0 && (primary.runningCount ?? 0) === target.desiredCount && rollout === 'COMPLETED') {
    return { state: 'steady', detail: `${target.service}: ${counts}` };
  }
  const draining = others.length > 0 ? `, ${others.length} older deployment(s) still running` : '';
  return { state: 'progressing', detail: `${target.service}: rollout ${rollout}; ${counts}${failedTasks}${draining}${lastEvents(service, 1)}` };
}

export interface WaitOptions {
  cluster: string;
  timeoutMs?: number;
  pollMs?: number;
  /** Called with every change of what the services show. */
  progress?: (details: string[]) => void;
  /** What a person does when a service fails or never settles. */
  fix: string;
  /** What is being waited for, for messages: `the blue slot`. */
  subject: string;
}

/**
 * Polls the services until each one is steady on its target, and fails (DeployError) as soon as
 * one fails or when the time is up, with what each service showed last.
 */
export async function waitForRollout(ecs: ECSClient, targets: readonly RolloutTarget[], options: WaitOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_ROLLOUT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const { services } = await ecs.send(new DescribeServicesCommand({ cluster: options.cluster, services: targets.map((t) => t.service) }));
    const outcomes = targets.map((target) => rolloutOutcome(services?.find((s) => s.serviceName === target.service), target));
    const details = outcomes.map((o) => o.detail);
    if (details.join('\n') !== last) {
      last = details.join('\n');
      options.progress?.(details);
    }
    const failed = outcomes.filter((o) => o.state === 'failed');
    if (failed.length > 0) throw new DeployError(`${options.subject} did not start: ${failed.map((o) => o.detail).join('; ')}`, options.fix);
    if (outcomes.every((o) => o.state === 'steady')) return;
    if (Date.now() >= deadline) {
      throw new DeployError(`${options.subject} did not reach a steady state within ${Math.round(timeoutMs / 1000)} s: ${details.join('; ')}`, options.fix);
    }
    await sleep(Math.min(options.pollMs ?? DEFAULT_ROLLOUT_POLL_MS, Math.max(0, deadline - Date.now())));
  }
}
