import { DeployError } from '../../../components/errors.js';
import type { DockerEngine } from '../engine.js';
import type { AppService, ReleaseSpec, Slot } from '../spec.js';
import { planOfDockerSpec } from '../release-plan.js';
import { SLOT_LABELS, slotContainers } from './names.js';
import { findSlotProblems, inspectSlot, type SlotInspection } from './inspect-slot.js';
import { removeContainers } from './lifecycle.js';
import { slotStopTimeoutSeconds } from './stop-timeout.js';

/** What `docker run` gives each service: the app's subcommand. */
const SERVICE_COMMANDS: Record<AppService, string> = { 'sensor-api': 'sensor-api', 'web-ui': 'web-ui' };

export interface StartSlotPlan {
  /** Containers removed first, whatever is left of the slot (with their anonymous volumes). */
  remove: string[];
  run: { service: AppService; name: string; args: string[] }[];
  /** Secret variables forwarded by name (`-e NAME`); their values go in the docker CLI's env. */
  secretNames: string[];
}

/**
 * The docker commands that (re)create a slot from the release image. No published ports: the
 * containers are reached only through Caddy on the stack's network. Secrets appear as `-e NAME`
 * only, never with their value.
 */
export function planStartSlot(spec: ReleaseSpec, slot: Slot, imageId: string): StartSlotPlan {
  const containers = slotContainers(spec.prefix, slot);
  const labels: Record<string, string> = {
    [SLOT_LABELS.stack]: spec.stack,
    [SLOT_LABELS.slot]: slot,
    [SLOT_LABELS.release]: spec.image.releaseId,
    [SLOT_LABELS.version]: spec.image.version,
    [SLOT_LABELS.commit]: spec.image.commit,
    [SLOT_LABELS.imageId]: imageId,
    // The whole (secret-free) plan, so a rollback can restore this release from the host alone.
    [SLOT_LABELS.plan]: JSON.stringify(planOfDockerSpec(spec)),
  };
  // The app drains for TK_SHUTDOWN_TIMEOUT_MS on SIGTERM; it follows the release's drain timeout
  // unless the stack sets it explicitly. Behind Caddy, web-ui takes the client's address and
  // scheme from the X-Forwarded-* headers Caddy sets (the app's default ignores them, so that a
  // client cannot forge them when nothing is in front). web-ui's shutdown delay keeps a stopping
  // server accepting while a load balancer deregisters it; Caddy has stopped routing new requests
  // to a slot before it is drained (the switch is atomic), so here the delay only slows the drain.
  const appEnv: Record<string, string> = {
    TK_SHUTDOWN_TIMEOUT_MS: String(spec.drainTimeoutMs),
    TK_WEB_UI_TRUST_PROXY: 'true',
    TK_WEB_UI_SHUTDOWN_DELAY_MS: '0',
    ...spec.appEnv,
  };
  const envArgs = Object.keys(appEnv)
    .sort()
    .flatMap((name) => ['-e', `${name}=${appEnv[name]}`]);
  const secretArgs = spec.secretEnv.flatMap((name) => ['-e', name]);
  return {
    remove: containers.map((c) => c.name),
    run: containers.map(({ service, name }) => ({
      service,
      name,
      args: [
        'run', '--detach',
        '--name', name,
        '--network', spec.network,
        '--restart', 'unless-stopped',
        '--stop-timeout', String(slotStopTimeoutSeconds(spec.drainTimeoutMs)),
        ...Object.entries({ ...labels, [SLOT_LABELS.service]: service }).flatMap(([key, value]) => ['--label', `${key}=${value}`]),
        ...envArgs,
        ...secretArgs,
        '-e', `TK_RELEASE_ID=${spec.image.releaseId}`,
        spec.image.ref,
        SERVICE_COMMANDS[service],
      ],
    })),
    secretNames: [...spec.secretEnv],
  };
}

/** The values of the secret variables, from `source` (the release process's environment by default). */
export function collectSecrets(names: readonly string[], source: Record<string, string | undefined>): Record<string, string> {
  const missing = names.filter((name) => !source[name]);
  if (missing.length > 0) {
    throw new DeployError(
      `The release needs the secret variable(s) ${missing.join(', ')}, which are not set`,
      `export ${missing.map((name) => `${name}=...`).join(' ')} (from your secret store) and run the release again`,
    );
  }
  return Object.fromEntries(names.map((name) => [name, source[name] as string]));
}

/** The image id (`sha256:...`) `ref` names on the Docker host. */
export async function resolveImageId(engine: DockerEngine, ref: string): Promise<string> {
  const result = await engine.exec(['image', 'inspect', '--format', '{{.Id}}', ref]);
  if (result.exitCode !== 0) {
    throw new DeployError(
      `The release image ${ref} is not on the Docker host: ${result.stderr.trim()}`,
      `build or pull it first (docker image ls ${ref.split(':')[0] ?? ref})`,
    );
  }
  return result.stdout.trim();
}

export interface StartSlotOptions {
  /** Secret values by name; defaults to the release process's environment. */
  secrets?: Record<string, string | undefined>;
}

export interface StartedSlot {
  slot: Slot;
  imageId: string;
  containers: SlotInspection[];
}

/**
 * Replaces the slot's containers with the release's and checks each one runs the intended
 * image id and is running: a slot that silently kept an old image must never reach the gate.
 * Never call it on the live slot.
 */
export async function startSlot(engine: DockerEngine, spec: ReleaseSpec, slot: Slot, options: StartSlotOptions = {}): Promise<StartedSlot> {
  const secrets = collectSecrets(spec.secretEnv, options.secrets ?? process.env);
  const imageId = await resolveImageId(engine, spec.image.ref);
  const plan = planStartSlot(spec, slot, imageId);
  await removeContainers(engine, plan.remove);
  // The services start side by side: each one's start-up (the app loading) is most of a release's wait.
  await Promise.all(plan.run.map((container) => engine.run(container.args, { env: secrets })));
  const containers = await assertSlotRunsRelease(engine, spec, slot, imageId);
  return { slot, imageId, containers };
}

/**
 * Throws DeployError unless both containers of the slot exist, run, run exactly `imageId` and
 * carry this release's label (a leftover container of another image never passes).
 */
export async function assertSlotRunsRelease(engine: DockerEngine, spec: ReleaseSpec, slot: Slot, imageId: string): Promise<SlotInspection[]> {
  const containers = await inspectSlot(engine, spec.prefix, slot);
  const problems = findSlotProblems(containers, { imageId, releaseId: spec.image.releaseId });
  if (problems.length > 0) {
    throw new DeployError(
      `The ${slot} slot does not run release ${spec.image.releaseId} (${imageId}):\n  ${problems.join('\n  ')}`,
      containers.map((c) => `docker logs ${c.name}`).join('; '),
    );
  }
  return containers;
}
