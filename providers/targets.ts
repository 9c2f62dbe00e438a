import { AwsTarget } from './aws/target.js';
import type { AwsStackConfig, DockerStackConfig, GcpStackConfig, ProviderName, StackConfig } from './config.js';
import { DockerTarget } from './docker/index.js';
import { GcpTarget } from './gcp/target.js';
import type { ImageTag } from './docker/image-tag.js';
import type { DeploymentTarget } from './types.js';

export interface TargetProgramArgs {
  config: StackConfig;
  imageTag: ImageTag;
  buildContext?: string;
}

/**
 * Every deployment target's Pulumi resources, by the name `provider` takes in the stack config:
 * the one place the program chooses a target. The release process finds the same targets'
 * release backends in providers/target-runtimes.ts (by the same names).
 */
const TARGETS: Record<ProviderName, (name: string, args: TargetProgramArgs) => DeploymentTarget> = {
  docker: (name, args) => new DockerTarget(name, { ...args, config: args.config as DockerStackConfig }),
  gcp: (name, args) => new GcpTarget(name, { config: args.config as GcpStackConfig, imageTag: args.imageTag }),
  aws: (name, args) => new AwsTarget(name, { ...args, config: args.config as AwsStackConfig }),
};

export function declareTarget(name: string, args: TargetProgramArgs): DeploymentTarget {
  return TARGETS[args.config.provider](name, args);
}
