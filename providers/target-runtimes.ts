import { DeployError } from '../components/errors.js';
import type { DeployEvents } from '../components/events/deploy-events.js';
import type { ReleasePlan } from '../components/release/plan.js';
import type { ReleaseBackend } from '../components/release/ports.js';
import type { ProviderName } from './provider-names.js';

/** What the release process needs of a target: its release backend, and its part of `pulumi destroy`. */
export interface TargetRuntime {
  /** `events` gets a target's progress lines (a cloud's long waits); optional. */
  withBackend<T>(plan: ReleasePlan, work: (backend: ReleaseBackend) => Promise<T>, events?: DeployEvents): Promise<T>;
  destroy(plan: ReleasePlan, events: DeployEvents): Promise<void>;
}

/**
 * The release process's side of every target, by `target.kind` in a release plan, loaded when a
 * plan asks for it. It is apart from the program's side (providers/targets.ts) so that the release
 * process, which `pulumi up` starts for every release and rollback, never loads the Pulumi SDKs,
 * and a target's cloud SDKs load only for its own stacks: the AWS clients alone take over a second.
 */
export const TARGET_RUNTIMES: Record<ProviderName, () => Promise<TargetRuntime>> = {
  docker: async () => (await import('./docker/runtime.js')).dockerRuntime,
  gcp: async () => (await import('./gcp/runtime.js')).gcpRuntime,
  aws: async () => (await import('./aws/runtime.js')).awsRuntime,
};

export async function targetRuntime(plan: ReleasePlan): Promise<TargetRuntime> {
  const load = (TARGET_RUNTIMES as Record<string, (() => Promise<TargetRuntime>) | undefined>)[plan.target.kind];
  if (!load) {
    throw new DeployError(`The release plan of stack ${plan.stack} is for a "${plan.target.kind}" target, which this toolkit does not know`, 'update this checkout of the toolkit (git pull && npm ci)');
  }
  return load();
}
