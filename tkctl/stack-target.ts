import { DeployError } from '../components/errors.js';
import type { DockerEngine } from '../providers/docker/engine.js';
import { withDockerEngine } from '../providers/docker/runtime.js';
import type { AppService, ReleaseSpec, Slot } from '../providers/docker/spec.js';
import { slotContainers } from '../providers/docker/slots/names.js';
import { readStackState, stackDockerHost, type StackState } from '../providers/docker/stack-status.js';
import type { TkctlIo } from './io.js';
import { openProject, resolveStackName } from './pulumi-workspace.js';

/**
 * The stack a command acts on: `--stack`, else the selected stack. Only the latter needs the
 * Pulumi CLI, so commands that talk to the Docker host alone work without one given --stack.
 */
export async function chooseStack(io: TkctlIo, requested: string | undefined): Promise<string> {
  if (requested) return requested;
  return resolveStackName(await openProject(io.cwd), undefined);
}

/**
 * Runs `work` against the stack's Docker host (its `docker.host`, DOCKER_HOST or the local
 * engine; one SSH connection for all of it) with what the host says about the stack.
 */
export function withStackHost<T>(io: TkctlIo, stack: string, work: (engine: DockerEngine, state: StackState) => Promise<T>): Promise<T> {
  return withDockerEngine(stackDockerHost(stack, undefined, io.cwd), async (engine) => work(engine, await readStackState(engine, stack)));
}

/** The stack's release spec as its slots recorded it; a stack that never released has none. */
export function requireReleasedSpec(state: StackState, stack: string): ReleaseSpec {
  if (!state.spec) {
    throw new DeployError(
      `Stack ${stack} has no release on its Docker host (no slot container tk-${stack}-blue-web-ui or tk-${stack}-green-web-ui)`,
      `tkctl up --stack ${stack}`,
    );
  }
  return state.spec;
}

/** The containers serving users now: the live slot's, by service. */
export function liveSlotContainers(state: StackState, stack: string): { slot: Slot; containers: Record<AppService, string> } {
  const spec = requireReleasedSpec(state, stack);
  const live = state.report.live;
  if (!live) throw new DeployError(`Stack ${stack} has no live slot (Caddy routes to none)`, `tkctl up --stack ${stack}`);
  return {
    slot: live.slot,
    containers: Object.fromEntries(slotContainers(spec.prefix, live.slot).map((c) => [c.service, c.name])) as Record<AppService, string>,
  };
}
