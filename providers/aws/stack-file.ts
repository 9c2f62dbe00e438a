import { DeployError } from '../../components/errors.js';
import { readStackFileConfig } from '../stack-file.js';
import { awsSectionSchema } from './config.js';
import { awsNames } from './names.js';
import { planAwsTarget, postgresClientImage, type AwsTargetPlan } from './plan-target.js';
import { AWS_LISTENER_PORTS } from './release-plan.js';

/** An AWS stack as the commands that run without `pulumi` (status, lock, tkctl's operator commands) find it. */
export interface AwsStackRef {
  stack: string;
  /** The names the program gives the stack's resources, and its region: the target its release plans carry. */
  target: AwsTargetPlan;
}

/**
 * The AWS stack `stack` as its Pulumi.<stack>.yaml in `dir` declares it, or undefined when the
 * file does not exist or is for another provider. Reads no secret.
 */
export function awsStackFromFile(stack: string, dir = process.cwd()): AwsStackRef | undefined {
  const config = readStackFileConfig(stack, dir);
  if (config?.['trapperkeeper:provider'] !== 'aws') return undefined;
  const section = awsSectionSchema.safeParse(config['trapperkeeper:aws'] ?? {});
  if (!section.success) {
    throw new DeployError(
      `Pulumi.${stack}.yaml has no valid trapperkeeper:aws section (${section.error.issues.map((issue) => `aws.${issue.path.join('.')}: ${issue.message}`).join('; ')})`,
      `run pulumi preview -s ${stack}: it lists every problem of the stack config with its fix`,
    );
  }
  const aws = section.data;
  const target = planAwsTarget(
    awsNames(stack, aws.region, aws.snapshotBucket),
    aws.region,
    { web: AWS_LISTENER_PORTS.web, grpc: AWS_LISTENER_PORTS.grpc, stagingWeb: AWS_LISTENER_PORTS.stagingWeb, stagingGrpc: AWS_LISTENER_PORTS.stagingGrpc },
    { 'sensor-api': aws.desiredCount.sensorApi, 'web-ui': aws.desiredCount.webUi },
    postgresClientImage(aws.database.engineVersion),
  );
  return { stack, target };
}
