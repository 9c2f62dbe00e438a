import type { AwsStackConfig, DockerStackConfig, GcpStackConfig, ProviderName, StackConfig } from './config.js';
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
 *
 * Each target's module is loaded only when a stack selects it: @pulumi/aws and @pulumi/gcp each
 * take seconds to load, and every `pulumi up` of a Docker stack would pay for both.
 */
const TARGETS: Record<ProviderName, (name: string, args: TargetProgramArgs) => Promise<DeploymentTarget>> = {
  docker: async (name, args) => {
    const { DockerTarget } = await import('./docker/index.js');
    return new DockerTarget(name, { ...args, config: args.config as DockerStackConfig });
  },
  gcp: async (name, args) => {
    const { GcpTarget } = await import('./gcp/target.js');
    return new GcpTarget(name, { ...args, config: args.config as GcpStackConfig });
  },
  aws: async (name, args) => {
    const { AwsTarget } = await import('./aws/target.js');
    return new AwsTarget(name, { ...args, config: args.config as AwsStackConfig });
  },
};

export function declareTarget(name: string, args: TargetProgramArgs): Promise<DeploymentTarget> {
  return TARGETS[args.config.provider](name, args);
}
