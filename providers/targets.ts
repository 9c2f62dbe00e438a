import { DeployError } from '../components/errors.js';
import type { DeployEvents } from '../components/events/deploy-events.js';
import type { ReleasePlan } from '../components/release/plan.js';
import type { ReleaseBackend } from '../components/release/ports.js';
import { AwsTarget } from './aws/index.js';
import { awsRuntime } from './aws/runtime.js';
import type { AwsStackConfig, DockerStackConfig, ProviderName, StackConfig } from './config.js';
import { DockerTarget } from './docker/index.js';
import { dockerRuntime } from './docker/runtime.js';
import type { ImageTag } from './docker/image-tag.js';
import type { DeploymentTarget } from './types.js';

/** What the release process needs of a target: its release backend, and its part of `pulumi destroy`. */
export interface TargetRuntime {
  withBackend<T>(plan: ReleasePlan, work: (backend: ReleaseBackend) => Promise<T>): Promise<T>;
  destroy(plan: ReleasePlan, events: DeployEvents): Promise<void>;
}

export interface TargetProgramArgs {
  config: StackConfig;
  imageTag: ImageTag;
  buildContext?: string;
}

interface TargetEntry {
  /** Declares the stack's resources (the Pulumi program's side). */
  declare(name: string, args: TargetProgramArgs): DeploymentTarget;
  runtime: TargetRuntime;
}

/**
 * Every deployment target, by the name `provider` takes in the stack config and `target.kind` in
 * a release plan: the one place the program and the release process choose a target.
 */
const TARGETS: Record<ProviderName, TargetEntry> = {
  docker: {
    declare: (name, args) => new DockerTarget(name, { ...args, config: args.config as DockerStackConfig }),
    runtime: dockerRuntime,
  },
  aws: {
    declare: (name, args) => new AwsTarget(name, { ...args, config: args.config as AwsStackConfig }),
    runtime: awsRuntime,
  },
};

export function declareTarget(name: string, args: TargetProgramArgs): DeploymentTarget {
  return TARGETS[args.config.provider].declare(name, args);
}

export function targetRuntime(plan: ReleasePlan): TargetRuntime {
  const entry = (TARGETS as Record<string, TargetEntry | undefined>)[plan.target.kind];
  if (!entry) {
    throw new DeployError(`The release plan of stack ${plan.stack} is for a "${plan.target.kind}" target, which this toolkit does not know`, 'update this checkout of the toolkit (git pull && npm ci)');
  }
  return entry.runtime;
}
