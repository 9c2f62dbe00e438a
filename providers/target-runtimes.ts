import { DeployError } from '../components/errors.js';
import type { DeployEvents } from '../components/events/deploy-events.js';
import type { ReleasePlan } from '../components/release/plan.js';
import type { ReleaseBackend } from '../components/release/ports.js';
import type { ProviderName } from './provider-names.js';
import { awsRuntime } from './aws/runtime.js';
import { dockerRuntime } from './docker/runtime.js';
import { gcpRuntime } from './gcp/runtime.js';

/** What the release process needs of a target: its release backend, and its part of `pulumi destroy`. */
export interface TargetRuntime {
  /** `events` gets a target's progress lines (a cloud's long waits); optional. */
  withBackend<T>(plan: ReleasePlan, work: (backend: ReleaseBackend) => Promise<T>, events?: DeployEvents): Promise<T>;
  destroy(plan: ReleasePlan, events: DeployEvents): Promise<void>;
}

/**
 * The release process's side of every target, by `target.kind` in a release plan. It is apart
 * from the program's side (providers/targets.ts) so that the release process, which `pulumi up`
 * starts for every release and rollback, never loads the Pulumi SDKs: they take seconds to load.
 */
export const TARGET_RUNTIMES: Record<ProviderName, TargetRuntime> = {
  docker: dockerRuntime,
  gcp: gcpRuntime,
  aws: awsRuntime,
};

export function targetRuntime(plan: ReleasePlan): TargetRuntime {
  const runtime = (TARGET_RUNTIMES as Record<string, TargetRuntime | undefined>)[plan.target.kind];
  if (!runtime) {
    throw new DeployError(`The release plan of stack ${plan.stack} is for a "${plan.target.kind}" target, which this toolkit does not know`, 'update this checkout of the toolkit (git pull && npm ci)');
  }
  return runtime;
}
