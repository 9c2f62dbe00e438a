import { DeployError } from '../components/errors.js';
import { PROVIDERS, type ProviderName } from './provider-names.js';
import { readStackFileConfig } from './stack-file.js';
import type { StackOperations, StackTargetOptions } from './stack-operations.js';

/** The target of a stack as its Pulumi.<stack>.yaml names it (`trapperkeeper:provider`, default docker; no file: docker). */
export function stackProvider(stack: string, dir = process.cwd()): ProviderName {
  const provider = readStackFileConfig(stack, dir)?.['trapperkeeper:provider'] ?? 'docker';
  if (!(PROVIDERS as readonly unknown[]).includes(provider)) {
    throw new DeployError(`Pulumi.${stack}.yaml names the provider ${JSON.stringify(provider)}, which this toolkit does not know (${PROVIDERS.join(', ')})`, `pulumi config set provider docker -s ${stack} (or aws, gcp)`);
  }
  return provider as ProviderName;
}

type Opener = <T>(stack: string, options: StackTargetOptions, work: (operations: StackOperations) => Promise<T>) => Promise<T>;

/**
 * Each target's operations, loaded only for a stack of that target: a Docker stack's commands
 * never load the AWS or Google SDKs (each takes a while to load).
 */
const OPENERS: Record<ProviderName, Opener> = {
  docker: async (stack, options, work) => (await import('./docker/stack-operations.js')).withDockerStackOperations(stack, options, work),
  aws: async (stack, options, work) => (await import('./aws/stack-operations.js')).withAwsStackOperations(stack, options, work),
  gcp: async (stack, options, work) => (await import('./gcp/stack-operations.js')).withGcpStackOperations(stack, options, work),
};

/** Runs `work` with the operations of `stack` on the target its stack file names, and closes what they opened. */
export function withStackOperations<T>(stack: string, options: StackTargetOptions, work: (operations: StackOperations) => Promise<T>): Promise<T> {
  return OPENERS[stackProvider(stack, options.dir)](stack, options, work);
}
