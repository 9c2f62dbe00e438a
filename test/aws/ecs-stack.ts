/**
 * What a stack's Pulumi program declares for its slots (infrastructure.ts), made through the same
 * APIs on moto: a VPC with two subnets and the tasks' security group, the ECS cluster, the template
 * task definition of every slot and service (task-template.ts, the shape Pulumi registers) and the
 * services at zero tasks with the deployment circuit breaker on.
 *
 * moto's quirks, which AWS itself does not have: it wants the container-level cpu and memory
 * (Fargate takes the task's), and a service's network configuration with security groups.
 */
import { CreateClusterCommand, CreateServiceCommand, RegisterTaskDefinitionCommand, type ContainerDefinition, type ECSClient } from '@aws-sdk/client-ecs';
import { ACMClient, RequestCertificateCommand } from '@aws-sdk/client-acm';
import { CreateLogGroupCommand, CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CreateListenerCommand, CreateLoadBalancerCommand, CreateTargetGroupCommand, DescribeTargetGroupsCommand, ModifyTargetGroupAttributesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../../providers/aws/clients.js';
import { forwardTo } from '../../providers/aws/routing/listener-routing.js';
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateBucketCommand, PutBucketLifecycleConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { snapshotLifecycleRule } from '../../providers/aws/snapshot/s3-snapshots.js';
import { APP_PORTS, APP_SERVICES, SLOTS, type AppService, type Slot } from '../../components/release/plan.js';
import { awsNames } from '../../providers/aws/names.js';
import { planAwsTarget, type AwsTargetPlan } from '../../providers/aws/release-plan.js';
import { appContainerDefinition, TASK_SIZE } from '../../providers/aws/task-template.js';

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';
export const LISTENERS = { web: 443, grpc: 50051, stagingWeb: 8443, stagingGrpc: 50052 };
export const REGISTRY = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
export const DESIRED_COUNT = { 'sensor-api': 2, 'web-ui': 1 } as const;

/** The stack's secret values in Secrets Manager (canaries: never in a plain environment or a log). */
export const SECRET_VALUES = {
  hmacSecret: `abcdef01abcdef01abcdef01abcdef01:${Buffer.from('canary-aws-task-hmac-secret-0123456789').toString('base64')}`,
  databasePassword: 'canary-aws-task-db-password-7Hq2',
} as const;

/** The snapshot bucket with the lifecycle rule the stack declares. */
export async function declareSnapshotBucket(s3: S3Client, bucket: string, retentionDays: number): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: REGION } }));
  const rule = snapshotLifecycleRule(retentionDays);
  await s3.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: bucket,
      LifecycleConfiguration: {
        Rules: [
          {
            ID: rule.id,
            Status: rule.status,
            Filter: { And: { Prefix: rule.filter.and.prefix, Tags: Object.entries(rule.filter.and.tags).map(([Key, Value]) => ({ Key, Value })) } },
            Expiration: { Days: rule.expiration.days },
          },
        ],
      },
    }),
  );
}

/** The plan's target of a test stack; `listeners` are the ports of a load balancer stand-in when the test has one (data-plane/). */
export function testTarget(stack = 'test', listeners: typeof LISTENERS = LISTENERS): AwsTargetPlan {
  return planAwsTarget(awsNames(stack, REGION), REGION, listeners, DESIRED_COUNT, 'public.ecr.aws/docker/library/postgres:15');
}

export interface DeclaredEcs {
  vpcId: string;
  subnetIds: string[];
  securityGroupId: string;
  secretArns: { 'hmac-secret': string; 'database-password': string };
  /** The template task definition ARNs, by slot and service. */
  templates: Record<Slot, Record<AppService, string>>;
}

export interface TemplateOptions {
  /** The stack's database URL in the tasks' environment (no password). */
  databaseUrl?: string;
  /** The image the templates name (the commit `pulumi up` ran for). */
  tag?: string;
  /** Changes a template's container before it is registered (e.g. a secret put in the plain environment). */
  alter?: (container: ContainerDefinition) => ContainerDefinition;
  secretArns?: DeclaredEcs['secretArns'];
  /** The target groups of each slot and service (declareLoadBalancer's answer): the services register their tasks there, as the stack declares them. */
  targetGroups?: TargetGroupArns;
}

/** Target group ARNs by slot and service. */
export type TargetGroupArns = Record<Slot, Record<AppService, string>>;

/** The template of one slot and service, as Pulumi registers it. */
export function templateRegistration(target: AwsTargetPlan, stack: string, slot: Slot, service: AppService, options: TemplateOptions & { secretArns: DeclaredEcs['secretArns'] }) {
  const names = awsNames(stack, REGION);
  const container = appContainerDefinition({
    slot,
    service,
    image: `${REGISTRY}/${names.repository}:${options.tag ?? '0.9.0-template'}`,
    environment: {
      TK_DATABASE_URL: options.databaseUrl ?? 'postgres://trapperkeeper@tk-test-postgres.example.internal:5432/trapperkeeper?sslmode=no-verify',
      TK_SHUTDOWN_TIMEOUT_MS: '1000',
      TK_WEB_UI_TRUST_PROXY: 'true',
      TK_RELEASE_ID: '0.9.0-template+cfg.00000000',
      TK_LOG_LEVEL: 'warn',
    },
    secretArns: options.secretArns,
    logGroup: names.logGroup(service),
    region: REGION,
    drainTimeoutMs: 1000,
  });
  const moto = { cpu: Number(TASK_SIZE.cpu), memory: Number(TASK_SIZE.memory) };
  const altered = (options.alter ?? ((c) => c))({ ...container, ...moto } as ContainerDefinition);
  return {
    family: target.services[slot][service],
    requiresCompatibilities: ['FARGATE' as const],
    networkMode: 'awsvpc' as const,
    cpu: TASK_SIZE.cpu,
    memory: TASK_SIZE.memory,
    executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/tk-${stack}-task-execution`,
    runtimePlatform: { operatingSystemFamily: 'LINUX' as const, cpuArchitecture: 'X86_64' as const },
    containerDefinitions: [altered],
  };
}

export async function declareEcs(endpoint: string, ecs: ECSClient, target: AwsTargetPlan, stack = 'test', options: TemplateOptions = {}): Promise<DeclaredEcs> {
  const ec2 = new EC2Client({ region: REGION, endpoint });
  const secrets = new SecretsManagerClient({ region: REGION, endpoint });
  const logs = new CloudWatchLogsClient({ region: REGION, endpoint });
  try {
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
    const subnetIds = await Promise.all(
      ['a', 'b'].map(async (az, i) => (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.0.${10 + i}.0/24`, AvailabilityZone: `${REGION}${az}` }))).Subnet!.SubnetId!),
    );
    const securityGroupId = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: `tk-${stack}-tasks`, Description: 'tasks' }))).GroupId!;
    const names = awsNames(stack, REGION);
    const secretArn = async (name: 'hmac-secret' | 'database-password', value: string) => (await secrets.send(new CreateSecretCommand({ Name: names.secret(name), SecretString: value }))).ARN!;
    const secretArns = options.secretArns ?? {
      'hmac-secret': await secretArn('hmac-secret', SECRET_VALUES.hmacSecret),
      'database-password': await secretArn('database-password', SECRET_VALUES.databasePassword),
    };
    for (const service of APP_SERVICES) await logs.send(new CreateLogGroupCommand({ logGroupName: names.logGroup(service) }));
    await ecs.send(new CreateClusterCommand({ clusterName: target.cluster }));
    const templates = {} as Record<Slot, Record<AppService, string>>;
    for (const slot of SLOTS) {
      templates[slot] = {} as Record<AppService, string>;
      for (const service of APP_SERVICES) {
        const { taskDefinition } = await ecs.send(new RegisterTaskDefinitionCommand(templateRegistration(target, stack, slot, service, { ...options, secretArns })));
        templates[slot][service] = taskDefinition!.taskDefinitionArn!;
        await ecs.send(
          new CreateServiceCommand({
            cluster: target.cluster,
            serviceName: target.services[slot][service],
            taskDefinition: taskDefinition!.taskDefinitionArn!,
            launchType: 'FARGATE',
            desiredCount: 0,
            deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true }, minimumHealthyPercent: 100, maximumPercent: 200 },
            networkConfiguration: { awsvpcConfiguration: { subnets: subnetIds, securityGroups: [securityGroupId], assignPublicIp: 'DISABLED' } },
            ...(options.targetGroups
              ? { loadBalancers: [{ targetGroupArn: options.targetGroups[slot][service], containerName: service, containerPort: service === 'sensor-api' ? APP_PORTS.sensorApiGrpc : APP_PORTS.webUi }] }
              : {}),
          }),
        );
      }
    }
    return { vpcId, subnetIds, securityGroupId, secretArns, templates };
  } finally {
    ec2.destroy();
    secrets.destroy();
    logs.destroy();
  }
}

/**
 * What a stack's Pulumi program declares for routing, made through the same APIs on moto: the
 * target groups with the health checks load-balancer.ts declares (HTTP /readyz 200 for web-ui,
 * gRPC health code 0 for sensor-api, thresholds of 2) and, with `drainTimeoutMs`, its
 * deregistration delay. Returns the target groups' ARNs.
 */
export async function declareLoadBalancer(endpoint: string, clients: AwsClients, target: AwsTargetPlan, options: { drainTimeoutMs?: number } = {}): Promise<TargetGroupArns> {
  const common = { region: REGION, endpoint };
  const ec2 = new EC2Client(common);
  const acm = new ACMClient(common);
  try {
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
    const subnets = await Promise.all(
      ['a', 'b'].map(async (az, i) => (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: `10.0.${i}.0/24`, AvailabilityZone: `${REGION}${az}` }))).Subnet!.SubnetId!),
    );
    const certificate = (await acm.send(new RequestCertificateCommand({ DomainName: 'tk.example.com' }))).CertificateArn!;
    const balancer = (await clients.elbv2.send(new CreateLoadBalancerCommand({ Name: target.loadBalancer, Subnets: subnets }))).LoadBalancers![0]!.LoadBalancerArn!;
    const checks = { HealthCheckIntervalSeconds: 5, HealthCheckTimeoutSeconds: 4, HealthyThresholdCount: 2, UnhealthyThresholdCount: 2, HealthCheckPort: 'traffic-port' };
    for (const slot of ['blue', 'green'] as const) {
      await clients.elbv2.send(
        new CreateTargetGroupCommand({ Name: target.targetGroups[slot]['web-ui'], Protocol: 'HTTP', Port: 8080, VpcId: vpc, TargetType: 'ip', HealthCheckPath: '/readyz', Matcher: { HttpCode: '200' }, ...checks }),
      );
      await clients.elbv2.send(
        new CreateTargetGroupCommand({
          Name: target.targetGroups[slot]['sensor-api'],
          Protocol: 'HTTP',
          ProtocolVersion: 'GRPC',
          Port: 50051,
          VpcId: vpc,
          TargetType: 'ip',
          HealthCheckPath: '/grpc.health.v1.Health/Check',
          Matcher: { GrpcCode: '0' },
          ...checks,
        }),
      );
    }
    // As the stack declares them: forwarding to blue (100) and green (0), neither tagged by a release.
    const groups = (await clients.elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups!;
    const arns = (service: 'web-ui' | 'sensor-api') => ({
      blue: groups.find((g) => g.TargetGroupName === target.targetGroups.blue[service])!.TargetGroupArn!,
      green: groups.find((g) => g.TargetGroupName === target.targetGroups.green[service])!.TargetGroupArn!,
    });
    if (options.drainTimeoutMs !== undefined) {
      // deregistrationDelaySeconds of load-balancer.ts (not imported: that module loads @pulumi/aws).
      const seconds = Math.ceil(options.drainTimeoutMs / 1000);
      for (const group of groups) {
        await clients.elbv2.send(
          new ModifyTargetGroupAttributesCommand({ TargetGroupArn: group.TargetGroupArn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(seconds) }] }),
        );
      }
    }
    for (const [role, port] of Object.entries(target.listeners)) {
      const action = forwardTo('blue', arns(role === 'web' || role === 'stagingWeb' ? 'web-ui' : 'sensor-api'));
      await clients.elbv2.send(new CreateListenerCommand({ LoadBalancerArn: balancer, Protocol: 'HTTPS', Port: port, Certificates: [{ CertificateArn: certificate }], DefaultActions: [action] }));
    }
    const web = arns('web-ui');
    const grpc = arns('sensor-api');
    return { blue: { 'web-ui': web.blue, 'sensor-api': grpc.blue }, green: { 'web-ui': web.green, 'sensor-api': grpc.green } };
  } finally {
    ec2.destroy();
    acm.destroy();
  }
}
