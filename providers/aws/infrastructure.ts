import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { APP_PORTS, APP_SERVICES, SLOTS, type AppService, type Slot } from '../../components/release/plan.js';
import type { AwsStackConfig } from '../config.js';
import type { StackSecrets } from '../stack-secrets.js';
import { DATABASE_CA_ENV, rdsCertificateAuthorities } from './database/rds-ca.js';
import { AwsLoadBalancer } from './load-balancer.js';
import { LOCK_KEY } from './lock/dynamodb-lock.js';
import { AWS_SECRETS, type AwsNames, type AwsSecretName } from './names.js';
import { AwsNetwork, POSTGRES_PORT } from './network.js';
import type { AwsListenerPorts } from './plan-target.js';
import { snapshotLifecycleRule } from './snapshot/s3-snapshots.js';
import { appContainerDefinition, TASK_SIZE } from './task-template.js';

export { TASK_SIZE, stopTimeoutSeconds } from './task-template.js';

/** Seconds a new task may fail the load balancer's health checks while it starts (migrations already ran). */
export const HEALTH_CHECK_GRACE_SECONDS = 30;

export interface AwsInfrastructureArgs {
  config: AwsStackConfig;
  names: AwsNames;
  ports: AwsListenerPorts & { http: number };
  /** The release id, image tag and non-secret app environment the initial task definitions run. */
  release: { releaseId: string; tag: string; appEnv: Record<string, string> };
  secrets: StackSecrets;
}

/**
 * The stable part of an AWS stack: network, load balancer, database, secrets, image repository,
 * ECS cluster with a Fargate service per service and slot, their logs, the deploy lock table and
 * the snapshot bucket. The services start with no task (desired count 0) and the release owns
 * their task definition and count from then on (it starts the idle slot and parks the old one),
 * so `pulumi up` never undoes a release.
 */
export class AwsInfrastructure extends pulumi.ComponentResource {
  readonly network: AwsNetwork;
  readonly loadBalancer: AwsLoadBalancer;
  readonly repository: aws.ecr.Repository;
  readonly secrets: Record<AwsSecretName, aws.secretsmanager.Secret>;
  readonly database: aws.rds.Instance;
  readonly cluster: aws.ecs.Cluster;
  readonly logGroups: Record<AppService, aws.cloudwatch.LogGroup>;
  readonly executionRole: aws.iam.Role;
  readonly taskDefinitions: Record<Slot, Record<AppService, aws.ecs.TaskDefinition>>;
  readonly services: Record<Slot, Record<AppService, aws.ecs.Service>>;
  readonly lockTable: aws.dynamodb.Table;
  readonly snapshotBucket: aws.s3.Bucket;

  constructor(name: string, args: AwsInfrastructureArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('trapperkeeper:aws:Infrastructure', name, {}, opts);
    const { config, names, ports } = args;
    const { aws: section } = config;

    this.network = new AwsNetwork(
      `${name}-network`,
      {
        prefix: names.prefix,
        vpc: section.vpc,
        publicPorts: [ports.http, ports.web, ports.grpc],
        stagingPorts: [ports.stagingWeb, ports.stagingGrpc],
        gateSourceCidrs: section.gateSourceCidrs,
      },
      { parent: this },
    );
    this.loadBalancer = new AwsLoadBalancer(
      `${name}-lb`,
      {
        names,
        vpcId: this.network.vpcId,
        subnetIds: this.network.publicSubnetIds,
        securityGroupId: this.network.loadBalancerSecurityGroup.id,
        certificateArn: section.certificateArn,
        ports,
        drainTimeoutMs: config.release.drainTimeoutMs,
        gate: config.release.gate,
      },
      { parent: this },
    );
    this.repository = this.createRepository(name, names);
    this.secrets = this.createSecrets(name, names, args.secrets);
    this.database = this.createDatabase(name, config, names, args.secrets);
    this.cluster = new aws.ecs.Cluster(`${name}-cluster`, { name: names.cluster, settings: [{ name: 'containerInsights', value: 'enabled' }] }, { parent: this });
    this.logGroups = Object.fromEntries(
      APP_SERVICES.map((service) => [service, new aws.cloudwatch.LogGroup(`${name}-logs-${service}`, { name: names.logGroup(service), retentionInDays: section.logRetentionDays }, { parent: this })]),
    ) as Record<AppService, aws.cloudwatch.LogGroup>;
    this.executionRole = this.createExecutionRole(name, names);
    this.taskDefinitions = bySlotAndService((slot, service) => this.createTaskDefinition(name, args, slot, service));
    this.services = bySlotAndService((slot, service) => this.createService(name, args, slot, service));
    this.lockTable = new aws.dynamodb.Table(
      `${name}-lock`,
      { name: names.lockTable, billingMode: 'PAY_PER_REQUEST', hashKey: LOCK_KEY.name, attributes: [{ name: LOCK_KEY.name, type: 'S' }], pointInTimeRecovery: { enabled: false } },
      { parent: this },
    );
    this.snapshotBucket = this.createSnapshotBucket(name, config, names);

    this.registerOutputs({ loadBalancerDnsName: this.loadBalancer.loadBalancer.dnsName, repositoryUrl: this.repository.repositoryUrl, databaseAddress: this.database.address });
  }

  private createRepository(name: string, names: AwsNames): aws.ecr.Repository {
    const repository = new aws.ecr.Repository(
      `${name}-repository`,
      // Release tags are never reused: a tag names one commit on one base (image-tag.ts).
      { name: names.repository, imageTagMutability: 'IMMUTABLE', imageScanningConfiguration: { scanOnPush: true }, forceDelete: false },
      { parent: this },
    );
    return repository;
  }

  private createSecrets(name: string, names: AwsNames, secrets: StackSecrets): Record<AwsSecretName, aws.secretsmanager.Secret> {
    const values: Record<AwsSecretName, pulumi.Output<string>> = { 'hmac-secret': secrets.hmacSecret, 'database-password': secrets.postgresPassword };
    return Object.fromEntries(
      (Object.keys(AWS_SECRETS) as AwsSecretName[]).map((secretName) => {
        const secret = new aws.secretsmanager.Secret(`${name}-${secretName}`, { name: names.secret(secretName), description: `${AWS_SECRETS[secretName]} of TrapperKeeper` }, { parent: this });
        new aws.secretsmanager.SecretVersion(`${name}-${secretName}`, { secretId: secret.id, secretString: pulumi.secret(values[secretName]) }, { parent: secret });
        return [secretName, secret];
      }),
    ) as Record<AwsSecretName, aws.secretsmanager.Secret>;
  }

  private createDatabase(name: string, config: AwsStackConfig, names: AwsNames, secrets: StackSecrets): aws.rds.Instance {
    const db = config.aws.database;
    const subnetGroup = new aws.rds.SubnetGroup(`${name}-db-subnets`, { name: `${names.database}-subnets`, subnetIds: this.network.privateSubnetIds }, { parent: this });
    return new aws.rds.Instance(
      `${name}-db`,
      {
        identifier: names.database,
        engine: 'postgres',
        engineVersion: db.engineVersion,
        instanceClass: db.instanceClass,
        allocatedStorage: db.allocatedStorageGb,
        storageType: 'gp3',
        storageEncrypted: true,
        multiAz: db.multiAz,
        backupRetentionPeriod: db.backupRetentionDays,
        deletionProtection: db.deletionProtection,
        skipFinalSnapshot: !db.finalSnapshot,
        ...(db.finalSnapshot ? { finalSnapshotIdentifier: `${names.database}-final` } : {}),
        copyTagsToSnapshot: true,
        dbName: config.database.name,
        username: config.database.user,
        password: pulumi.secret(secrets.postgresPassword),
        port: POSTGRES_PORT,
        dbSubnetGroupName: subnetGroup.name,
        vpcSecurityGroupIds: [this.network.databaseSecurityGroup.id],
        publiclyAccessible: false,
        autoMinorVersionUpgrade: true,
      },
      { parent: this },
    );
  }

  private createExecutionRole(name: string, names: AwsNames): aws.iam.Role {
    const role = new aws.iam.Role(
      `${name}-execution`,
      {
        name: `${names.prefix}-task-execution`,
        assumeRolePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
      },
      { parent: this },
    );
    new aws.iam.RolePolicyAttachment(`${name}-execution`, { role: role.name, policyArn: 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy' }, { parent: role });
    // Exactly the stack's secrets, for ECS to hand to the containers at start.
    new aws.iam.RolePolicy(
      `${name}-execution-secrets`,
      {
        role: role.id,
        policy: pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: Object.values(this.secrets).map((secret) => secret.arn) }],
        }),
      },
      { parent: role },
    );
    return role;
  }

  private createTaskDefinition(name: string, args: AwsInfrastructureArgs, slot: Slot, service: AppService): aws.ecs.TaskDefinition {
    const { config, names, release } = args;
    // The stack's variables (slots/task-definitions.ts STACK_ENV_KEYS) and this commit's release's;
    // a release keeps the former and brings its own of the latter.
    const environment = {
      // Encrypted, and the server's certificate verified, name included, against the region's RDS
      // CAs (Node's CA list lacks them): the app reads them from database.ca, pg_dump from a file.
      TK_DATABASE_URL: pulumi.interpolate`postgres://${config.database.user}@${this.database.address}:${POSTGRES_PORT}/${config.database.name}?sslmode=verify-full`,
      [DATABASE_CA_ENV]: rdsCertificateAuthorities(config.aws.region),
      TK_SHUTDOWN_TIMEOUT_MS: String(config.release.drainTimeoutMs),
      // The load balancer sets X-Forwarded-For and -Proto; nothing else reaches the tasks.
      TK_WEB_UI_TRUST_PROXY: 'true',
      TK_RELEASE_ID: release.releaseId,
      ...release.appEnv,
    };
    const container = pulumi.all([this.repository.repositoryUrl, environment.TK_DATABASE_URL, this.logGroups[service].name, this.secrets['hmac-secret'].arn, this.secrets['database-password'].arn]).apply(
      ([repositoryUrl, databaseUrl, logGroup, hmacArn, passwordArn]) => [
        appContainerDefinition({
          slot,
          service,
          image: `${repositoryUrl}:${release.tag}`,
          environment: { ...environment, TK_DATABASE_URL: databaseUrl },
          secretArns: { 'hmac-secret': hmacArn, 'database-password': passwordArn },
          logGroup,
          region: config.aws.region,
          drainTimeoutMs: config.release.drainTimeoutMs,
        }),
      ],
    );
    return new aws.ecs.TaskDefinition(
      `${name}-${slot}-${service}`,
      {
        family: names.service(slot, service),
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: TASK_SIZE.cpu,
        memory: TASK_SIZE.memory,
        executionRoleArn: this.executionRole.arn,
        runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' },
        containerDefinitions: pulumi.jsonStringify(container),
      },
      { parent: this },
    );
  }

  private createService(name: string, args: AwsInfrastructureArgs, slot: Slot, service: AppService): aws.ecs.Service {
    const grpc = service === 'sensor-api';
    return new aws.ecs.Service(
      `${name}-${slot}-${service}`,
      {
        name: args.names.service(slot, service),
        cluster: this.cluster.arn,
        taskDefinition: this.taskDefinitions[slot][service].arn,
        launchType: 'FARGATE',
        // The release starts the idle slot (aws.desiredCount.*) and parks the old one.
        desiredCount: 0,
        healthCheckGracePeriodSeconds: HEALTH_CHECK_GRACE_SECONDS,
        // A deployment whose tasks never get healthy rolls back, and the release reports that as a failure.
        deploymentCircuitBreaker: { enable: true, rollback: true },
        deploymentMinimumHealthyPercent: 100,
        deploymentMaximumPercent: 200,
        networkConfiguration: { subnets: this.network.privateSubnetIds, securityGroups: [this.network.taskSecurityGroup.id], assignPublicIp: false },
        loadBalancers: [{ targetGroupArn: this.loadBalancer.targetGroups[slot][service].arn, containerName: service, containerPort: grpc ? APP_PORTS.sensorApiGrpc : APP_PORTS.webUi }],
        propagateTags: 'SERVICE',
        enableEcsManagedTags: true,
      },
      // A target group must be on a listener before a service registers into it.
      { parent: this, dependsOn: Object.values(this.loadBalancer.listeners), ignoreChanges: ['taskDefinition', 'desiredCount'] },
    );
  }

  private createSnapshotBucket(name: string, config: AwsStackConfig, names: AwsNames): aws.s3.Bucket {
    const bucket = new aws.s3.Bucket(`${name}-snapshots`, { bucket: names.snapshotBucket, forceDestroy: config.ephemeral }, { parent: this });
    new aws.s3.BucketPublicAccessBlock(`${name}-snapshots`, { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, { parent: bucket });
    new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-snapshots`, { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }] }, { parent: bucket });
    new aws.s3.BucketLifecycleConfiguration(`${name}-snapshots`, { bucket: bucket.id, rules: [snapshotLifecycleRule(config.snapshots.retentionDays)] }, { parent: bucket });
    return bucket;
  }
}

function bySlotAndService<T>(make: (slot: Slot, service: AppService) => T): Record<Slot, Record<AppService, T>> {
  return Object.fromEntries(SLOTS.map((slot) => [slot, Object.fromEntries(APP_SERVICES.map((service) => [service, make(slot, service)]))])) as Record<Slot, Record<AppService, T>>;
}
