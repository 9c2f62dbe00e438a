import { describeHolder } from '../../components/lock/lock-holder.js';
import { SLOTS, type Slot } from '../../components/release/plan.js';
import type { SlotRecord } from '../../components/release/ports.js';
import { readStackFileConfig, type StackStatusReport } from '../stack-file.js';
import type { DockerEngine } from './engine.js';
import { readDeployLock } from './lock/index.js';
import { readProxyState } from './proxy/index.js';
import { dockerSpecOf } from './release-plan.js';
import { latestSnapshot } from './snapshot/index.js';
import type { ReleaseSpec } from './spec.js';
import { readSlotRecord } from './slot-record.js';

export type { StackStatusReport };

/** The status, and what it was read from: the slots' records and the plan one of them carries. */
export interface StackState {
  report: StackStatusReport;
  records: (SlotRecord | undefined)[];
  /** The stack's release spec as a slot recorded it; undefined while no release ever ran. */
  spec: ReleaseSpec | undefined;
}

/** Reads a stack's live slot, both slots' releases, the latest snapshot and the lock from its Docker host. */
export async function readStackState(engine: DockerEngine, stack: string): Promise<StackState> {
  const prefix = `tk-${stack}`;
  const records = await Promise.all(SLOTS.map((slot) => readSlotRecord(engine, prefix, slot)));
  const anyPlan = records.find((record) => record)?.plan;
  const spec = anyPlan ? dockerSpecOf(anyPlan) : undefined;
  const routing = spec ? (await readProxyState(engine, spec)).routing : null;
  const lock = await readDeployLock(engine, { prefix });
  const latest = spec ? await latestSnapshot(engine, spec) : undefined;
  return {
    records,
    spec,
    report: {
      live: routing?.live ?? null,
      slots: Object.fromEntries(records.map((record, index) => [SLOTS[index], record?.plan.image.releaseId ?? null])) as Record<Slot, string | null>,
      latestSnapshot: latest?.name ?? null,
      lock: lock.state === 'held' ? describeHolder(lock.holder, new Date()) : lock.state,
    },
  };
}

/** The stack's `trapperkeeper:docker.host` from Pulumi.<stack>.yaml in `dir`, if it sets one. */
export function stackDockerHostFromFile(stack: string, dir = process.cwd()): string | undefined {
  const docker = readStackFileConfig(stack, dir)?.['trapperkeeper:docker'] as { host?: unknown } | undefined;
  return typeof docker?.host === 'string' ? docker.host : undefined;
}

/**
 * Where a stack's Docker host is: an explicit one, else the stack file's docker.host, else
 * DOCKER_HOST, else the local engine. The same order as the program's docker provider
 * (providers/docker/infrastructure.ts), so tkctl status, backup and restore act on the engine
 * `pulumi up` deployed to, even with a DOCKER_HOST exported for another engine.
 */
export function stackDockerHost(stack: string, explicit?: string, dir = process.cwd(), env: NodeJS.ProcessEnv = process.env): string | undefined {
  return explicit ?? stackDockerHostFromFile(stack, dir) ?? env.DOCKER_HOST;
}
