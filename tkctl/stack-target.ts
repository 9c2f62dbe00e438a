import { DeployError } from '../components/errors.js';
import type { DockerEngine } from '../providers/docker/engine.js';
import { withDockerEngine } from '../providers/docker/runtime.js';
import { readStackState, stackDockerHost, type StackState } from '../providers/docker/stack-status.js';
import { stackProvider, withStackOperations } from '../providers/open-stack.js';
import type { StackOperations } from '../providers/stack-operations.js';
import type { TkctlIo } from './io.js';
import { openProject, resolveStackName } from './pulumi-workspace.js';

export { liveSlotContainers, requireReleasedSpec } from '../providers/docker/stack-operations.js';

/**
 * The stack a command acts on: `--stack`, else the selected stack. Only the latter needs the
 * Pulumi CLI, so commands that talk to the stack's target alone work without one given --stack.
 */
export async function chooseStack(io: TkctlIo, requested: string | undefined): Promise<string> {
  if (requested) return requested;
  return resolveStackName(await openProject(io.cwd), undefined);
}

/**
 * Runs `work` with the operations of the stack's target (providers/stack-operations.ts): its
 * Docker host, or the AWS or GCP APIs its Pulumi.<stack>.yaml names.
 */
export function withStackOperationsOf<T>(io: TkctlIo, stack: string, work: (operations: StackOperations) => Promise<T>): Promise<T> {
  return withStackOperations(stack, { ...io.targets, dir: io.cwd }, work);
}

/** What a command that works on Docker stacks only says for a cloud stack: why, and the target's own way. */
export interface DockerOnly {
  command: string;
  /** By cloud: why not, and what to do instead. */
  aws: { why: string; fix: string };
  gcp: { why: string; fix: string };
}

/**
 * Runs `work` against the stack's Docker host (its `docker.host`, DOCKER_HOST or the local
 * engine; one SSH connection for all of it) with what the host says about the stack. A stack
 * whose file names a cloud is refused before anything is done, with the cloud's own way.
 */
export function withStackHost<T>(io: TkctlIo, stack: string, work: (engine: DockerEngine, state: StackState) => Promise<T>, dockerOnly?: DockerOnly): Promise<T> {
  const provider = stackProvider(stack, io.cwd);
  if (provider !== 'docker') {
    const command = dockerOnly?.command ?? 'this command';
    const refusal = dockerOnly?.[provider];
    throw new DeployError(
      `tkctl ${command} works on Docker stacks only, and Pulumi.${stack}.yaml says provider ${provider}${refusal ? `: ${refusal.why}` : ''}`,
      refusal?.fix ?? `tkctl status --stack ${stack} shows what serves; use the ${provider === 'aws' ? 'AWS' : 'Google Cloud'} console or CLI for the rest`,
    );
  }
  return withDockerEngine(stackDockerHost(stack, undefined, io.cwd), async (engine) => work(engine, await readStackState(engine, stack)));
}

/** Why `admin` and `apikey` refuse a cloud stack: they run the app's command in a live container, which only Docker gives tkctl. */
export function appCommandOnClouds(command: string, appCommand: string, stack: string): DockerOnly {
  return {
    command,
    aws: {
      why: `it runs the app's own \`trapperkeeper ${appCommand}\` inside the live slot's container, and tkctl has no way into an ECS task (yet)`,
      fix: `run it as a one-off task of the release image, as the migrate task runs: aws ecs run-task --cluster tk-${stack} --task-definition tk-${stack}-migrate --overrides '{"containerOverrides":[{"name":"migrate","command":["${appCommand.split(' ').join('","')}", ...]}]}' (a password through Secrets Manager, never in the overrides)`,
    },
    gcp: {
      why: `it runs the app's own \`trapperkeeper ${appCommand}\` inside the live slot's container, and Cloud Run gives no way into a revision`,
      fix: `run it as an execution of the stack's migrate job: gcloud run jobs execute tk-${stack}-migrate --args=${appCommand.split(' ').join(',')},... (a password through Secret Manager, never in the args)`,
    },
  };
}
