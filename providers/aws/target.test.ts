import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { before, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import type { AwsStackConfig } from '../config.js';
import { declareTarget } from '../targets.js';
import { exampleReleasePlan } from '../../components/release/memory-backend.js';
import { AWS_MAX_STACK_NAME } from './config.js';
import { rdsCaNames, rdsCertificateAuthorities } from './database/rds-ca.js';
import { ALB_IDLE_TIMEOUT_SECONDS, GRPC_HEALTH_CHECK_PATH, SENSOR_API_IDLE_TIMEOUT_MS } from './load-balancer.js';
import { MOCK_ZONES, byName, byType, installAwsMocks, isWrappedSecret, plainOccurrences, promiseOf, recorded, settle, unwrapSecrets } from './mocks.js';
import { AWS_NAME_LIMITS, awsNames } from './names.js';
import { awsTargetOf } from './release-plan.js';
import { AwsTarget } from './target.js';
import { DATABASE_CA_FILE, migrateTaskDefinition, snapshotTaskDefinition, SNAPSHOT_CONTAINERS } from './tasks/release-tasks.js';
import { AWS_CANARY, awsConfig } from './testing.js';

const TAG = { tag: '0.1.0-0123abcd-20261123T101500Z', version: '0.1.0', commit: '0123abcdeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', created: '2026-11-23T10:15:00Z', dirty: false };
const GOLDEN = fileURLToPath(new URL('./fixtures/prod-graph.golden.txt', import.meta.url));

type Inputs = Record<string, unknown>;

async function declare(config: AwsStackConfig): Promise<AwsTarget> {
  const target = new AwsTarget('tk', { config, imageTag: TAG });
  await promiseOf(target.urn);
  await settle();
  return target;
}

function nameOfUrn(urn: string): string {
  return urn === '' ? '(root)' : (urn.split('::').pop() ?? urn);
}

/** A resource's inputs with its secrets opened: for checking values, never for printing. */
function opened(name: string, type?: string): Inputs {
  return unwrapSecrets(byName(name, type).inputs) as Inputs;
}

const TASK_DEFINITION = 'aws:ecs/taskDefinition:TaskDefinition';
const SERVICE = 'aws:ecs/service:Service';
const BUCKET = 'aws:s3/bucket:Bucket';

function containerOf(taskDefinition: string): { secrets: Array<{ name: string; valueFrom: string }>; environment: Array<{ name: string; value: string }>; stopTimeout: number; image: string; command: string[]; logConfiguration: { options: Record<string, string> } } {
  return (JSON.parse(String(opened(taskDefinition, TASK_DEFINITION).containerDefinitions)) as never[])[0]!;
}

function ingressOf(groupId: string): Inputs[] {
  return byType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').map((r) => r.inputs).filter((i) => i.securityGroupId === groupId);
}

describe('AwsTarget (Pulumi mocks; no AWS plugin runs, so these check what is declared, not what AWS accepts)', () => {
  before(async () => {
    await installAwsMocks('prod');
  });
  beforeEach(() => {
    recorded.length = 0;
  });

  it('declares the reviewed resource graph of a prod stack (types, names, parents, physical names)', async () => {
    await declare(awsConfig('prod'));
    const physical = (inputs: Inputs) => ['name', 'identifier', 'bucket', 'family', 'imageName'].map((key) => inputs[key]).find((value) => typeof value === 'string') ?? '';
    const graph = recorded.map((r) => `${r.type} ${r.name} <- ${nameOfUrn(r.parent)}${physical(r.inputs) ? ` [${physical(r.inputs)}]` : ''}`).sort();
    const text = `${graph.join('\n')}\n`;
    if (process.env.TK_UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, text);
    assert.equal(text, readFileSync(GOLDEN, 'utf8'), 'the graph changed: review it, then TK_UPDATE_GOLDEN=1 to accept');
  });

  it('is the target the registry declares for provider aws', async () => {
    const target = await declareTarget('tk', { config: awsConfig('prod'), imageTag: TAG });
    assert.ok(target instanceof AwsTarget);
    assert.equal(target.provider, 'aws');
    assert.equal(awsTargetOf(target.releasePlan).loadBalancer, 'tk-prod');
    await settle();
  });

  it('declares every AWS resource on the stack\'s own provider, in aws.region', async () => {
    await declare(awsConfig('prod', { region: 'eu-central-1', certificateArn: 'arn:aws:acm:eu-central-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789' }));
    const provider = byName('tk-aws', 'pulumi:providers:aws');
    assert.equal(provider.inputs.region, 'eu-central-1');
    const resources = recorded.filter((r) => r.type.startsWith('aws:'));
    assert.ok(resources.length > 60);
    for (const resource of resources) assert.ok(resource.provider.startsWith(`${provider.urn}::`), `${resource.name} uses ${resource.provider}`);
  });

  it('hands the tasks their secrets as Secrets Manager references (`secrets`), never in `environment`; the values appear nowhere in plain text', async () => {
    await declare(awsConfig('prod'));
    for (const definition of byType('aws:ecs/taskDefinition:TaskDefinition')) {
      const container = containerOf(definition.name);
      assert.deepEqual(container.secrets, [
        { name: 'TK_HMAC_SECRET', valueFrom: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:tk-prod/hmac-secret-AbCdEf` },
        { name: 'TK_DATABASE_PASSWORD', valueFrom: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:tk-prod/database-password-AbCdEf` },
      ]);
      const envNames = container.environment.map((e) => e.name);
      assert.ok(!envNames.includes('TK_HMAC_SECRET') && !envNames.includes('TK_DATABASE_PASSWORD'), envNames.join(', '));
      assert.match(container.environment.find((e) => e.name === 'TK_DATABASE_URL')!.value, /^postgres:\/\/trapperkeeper@tk-prod-postgres\.[a-z.0-9-]+:5432\/trapperkeeper\?sslmode=verify-full$/);
    }
    for (const canary of Object.values(AWS_CANARY)) {
      for (const resource of recorded) assert.deepEqual(plainOccurrences(resource.inputs, canary), [], `${resource.name} holds a secret in plain text`);
    }
    const versions = byType('aws:secretsmanager/secretVersion:SecretVersion');
    assert.equal(versions.length, 2);
    for (const version of versions) assert.ok(isWrappedSecret(version.inputs.secretString), `${version.name}: secretString is a secret`);
    assert.equal(opened('tk-infra-hmac-secret', 'aws:secretsmanager/secret:Secret').name, 'tk-prod/hmac-secret');
    assert.deepEqual(
      versions.map((v) => (unwrapSecrets(v.inputs) as Inputs).secretString).sort(),
      [AWS_CANARY.hmacSecret, AWS_CANARY.postgresPassword].sort(),
    );
    assert.ok(isWrappedSecret(byName('tk-infra-db', 'aws:rds/instance:Instance').inputs.password), 'the RDS password is a secret');
    const policy = JSON.parse(String(opened('tk-infra-execution-secrets').policy)) as { Statement: Array<{ Action: string[]; Resource: string[] }> };
    assert.deepEqual(policy.Statement[0]!.Action, ['secretsmanager:GetSecretValue']);
    assert.equal(policy.Statement[0]!.Resource.length, 2, 'the execution role reads exactly the stack\'s two secrets');
  });

  it('verifies the database\'s certificate: the services, migrations and pg_dump connect with verify-full against the region\'s RDS CAs', async () => {
    await declare(awsConfig('prod', { region: 'eu-central-1', certificateArn: 'arn:aws:acm:eu-central-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789' }));
    const regionCas = rdsCertificateAuthorities('eu-central-1');
    assert.deepEqual(rdsCaNames('eu-central-1').sort(), ['Amazon RDS eu-central-1 Root CA ECC384 G1', 'Amazon RDS eu-central-1 Root CA RSA2048 G1', 'Amazon RDS eu-central-1 Root CA RSA4096 G1']);
    for (const definition of byType(TASK_DEFINITION)) {
      const env = Object.fromEntries(containerOf(definition.name).environment.map((e) => [e.name, e.value]));
      assert.match(env.TK_DATABASE_URL!, /\?sslmode=verify-full$/, definition.name);
      assert.equal(env.TK_DATABASE_CA, regionCas, `${definition.name}: the region's RDS CAs, no other region's`);
    }
    // The one-off tasks of a release, made from the declared template as the release makes them.
    const template = { family: 'tk-prod-blue-sensor-api', containerDefinitions: [containerOf('tk-infra-blue-sensor-api')] } as never;
    const plan = exampleReleasePlan('1.0.0-aaaaaaa-20261201T100000Z-b00000001+cfg.00000001');
    const target = awsTargetOf((await declareTarget('tk', { config: awsConfig('prod'), imageTag: TAG })).releasePlan);
    await settle();
    const migrate = Object.fromEntries((migrateTaskDefinition(template, plan, target).containerDefinitions![0]!.environment ?? []).map((e) => [e.name, e.value]));
    assert.match(migrate.TK_DATABASE_URL!, /\?sslmode=verify-full$/);
    assert.equal(migrate.TK_DATABASE_CA, regionCas);
    const dump = snapshotTaskDefinition(template, plan, target).containerDefinitions!.find((c) => c.name === SNAPSHOT_CONTAINERS.dump)!;
    const dumpEnv = Object.fromEntries((dump.environment ?? []).map((e) => [e.name, e.value]));
    assert.deepEqual([dumpEnv.PGSSLMODE, dumpEnv.PGSSLROOTCERT, dumpEnv.TK_DATABASE_CA], ['verify-full', DATABASE_CA_FILE, regionCas]);
    const script = dump.command![0]!.split('\n');
    const writesCa = script.indexOf(`printf '%s\\n' "$TK_DATABASE_CA" >${DATABASE_CA_FILE}`);
    assert.ok(writesCa >= 0 && writesCa < script.findIndex((line) => line.includes('pg_dump')), 'the script writes the CAs where PGSSLROOTCERT points, before pg_dump');
  });

  it('lets only the load balancer reach the tasks and only the tasks reach the database', async () => {
    await declare(awsConfig('prod'));
    const [alb, tasks, db] = ['tk-infra-network-alb', 'tk-infra-network-tasks', 'tk-infra-network-db'].map((name) => `${name}-id`);
    assert.deepEqual(
      ingressOf(tasks!).map((i) => [i.fromPort, i.toPort, i.referencedSecurityGroupId, i.cidrIpv4 ?? i.cidrIpv6 ?? null]),
      [
        [8080, 8080, alb, null],
        [50051, 50051, alb, null],
      ],
    );
    assert.deepEqual(
      ingressOf(db!).map((i) => [i.fromPort, i.toPort, i.referencedSecurityGroupId, i.cidrIpv4 ?? i.cidrIpv6 ?? null]),
      [[5432, 5432, tasks, null]],
    );
    // The world reaches the load balancer's public listeners only; the test listeners are closed without aws.gateSourceCidrs.
    assert.deepEqual([...new Set(ingressOf(alb!).map((i) => i.fromPort))].sort(), [443, 50051, 80].sort());
    assert.equal(opened('tk-infra-db').publiclyAccessible, false);
    for (const service of byType('aws:ecs/service:Service')) {
      const network = (service.inputs.networkConfiguration as Inputs);
      assert.equal(network.assignPublicIp, false);
      assert.deepEqual(network.securityGroups, [tasks]);
    }
  });

  it('opens the test listeners only to aws.gateSourceCidrs', async () => {
    await declare(awsConfig('prod', { gateSourceCidrs: ['203.0.113.7/32'] }));
    const alb = 'tk-infra-network-alb-id';
    const staging = ingressOf(alb).filter((i) => i.fromPort === 8443 || i.fromPort === 50052);
    assert.deepEqual(staging.map((i) => [i.fromPort, i.cidrIpv4]).sort(), [[50052, '203.0.113.7/32'], [8443, '203.0.113.7/32']].sort());
  });

  it('keeps the database by default: deletion protection on, a final snapshot on delete; both can be turned off', async () => {
    await declare(awsConfig('prod'));
    const db = opened('tk-infra-db');
    assert.deepEqual(
      { deletionProtection: db.deletionProtection, skipFinalSnapshot: db.skipFinalSnapshot, finalSnapshotIdentifier: db.finalSnapshotIdentifier, storageEncrypted: db.storageEncrypted, backupRetentionPeriod: db.backupRetentionPeriod, multiAz: db.multiAz },
      { deletionProtection: true, skipFinalSnapshot: false, finalSnapshotIdentifier: 'tk-prod-postgres-final', storageEncrypted: true, backupRetentionPeriod: 7, multiAz: false },
    );
    recorded.length = 0;
    await declare(awsConfig('prod', { database: { deletionProtection: false, finalSnapshot: false, multiAz: true, backupRetentionDays: 14 } }));
    const throwaway = opened('tk-infra-db');
    assert.deepEqual(
      { deletionProtection: throwaway.deletionProtection, skipFinalSnapshot: throwaway.skipFinalSnapshot, finalSnapshotIdentifier: throwaway.finalSnapshotIdentifier, multiAz: throwaway.multiAz, backupRetentionPeriod: throwaway.backupRetentionPeriod },
      { deletionProtection: false, skipFinalSnapshot: true, finalSnapshotIdentifier: undefined, multiAz: true, backupRetentionPeriod: 14 },
    );
  });

  it('routes gRPC end to end: sensor-api target groups speak GRPC and are health-checked by the gRPC health service', async () => {
    await declare(awsConfig('prod', {}, { release: { drainTimeoutMs: 20_000 } }));
    for (const slot of ['blue', 'green']) {
      const grpc = opened(`tk-infra-lb-${slot}-sensor-api`);
      assert.deepEqual(
        { protocol: grpc.protocol, protocolVersion: grpc.protocolVersion, port: grpc.port, targetType: grpc.targetType, deregistrationDelay: grpc.deregistrationDelay },
        { protocol: 'HTTP', protocolVersion: 'GRPC', port: 50051, targetType: 'ip', deregistrationDelay: 20 },
      );
      assert.deepEqual({ path: (grpc.healthCheck as Inputs).path, matcher: (grpc.healthCheck as Inputs).matcher }, { path: GRPC_HEALTH_CHECK_PATH, matcher: '0' });
      const web = opened(`tk-infra-lb-${slot}-web-ui`);
      assert.deepEqual({ protocolVersion: web.protocolVersion, port: web.port, path: (web.healthCheck as Inputs).path, deregistrationDelay: web.deregistrationDelay }, { protocolVersion: 'HTTP1', port: 8080, path: '/readyz', deregistrationDelay: 20 });
    }
  });

  it('serves HTTPS with the configured certificate, redirects HTTP, forwards by weight to both slots, and leaves the weights to the release', async () => {
    await declare(awsConfig('prod'));
    const http = opened('tk-infra-lb-http');
    assert.deepEqual([http.port, http.protocol, http.defaultActions], [80, 'HTTP', [{ type: 'redirect', redirect: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } }]]);
    const certificate = awsConfig('prod').aws.certificateArn;
    for (const [role, port] of [['web', 443], ['grpc', 50051], ['stagingWeb', 8443], ['stagingGrpc', 50052]] as const) {
      const listener = byName(`tk-infra-lb-${role}`);
      assert.deepEqual([listener.inputs.port, listener.inputs.protocol, listener.inputs.certificateArn], [port, 'HTTPS', certificate], role);
      assert.deepEqual(listener.ignoreChanges, ['defaultActions'], `${role}: the weights are the release's; pulumi up must not reset them`);
      // Both slots' target groups are on the listener from the start (ECS requires it to create the services): blue 100, green 0.
      const service = role === 'web' || role === 'stagingWeb' ? 'web' : 'grpc';
      assert.deepEqual(unwrapSecrets(listener.inputs.defaultActions), [
        {
          type: 'forward',
          forward: {
            targetGroups: [
              { arn: `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tk-prod-blue-${service}/0123456789abcdef`, weight: 100 },
              { arn: `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tk-prod-green-${service}/0123456789abcdef`, weight: 0 },
            ],
            stickiness: { enabled: false, duration: 1 },
          },
        },
      ]);
    }
    for (const group of byType('aws:lb/targetGroup:TargetGroup')) assert.deepEqual(group.ignoreChanges, ['tags', 'tagsAll'], `${group.name}: the release tags it`);
  });

  it('drains without 5xx: the load balancer closes idle connections before either app does, and tasks get the drain before they are stopped', async () => {
    await declare(awsConfig('prod', {}, { release: { drainTimeoutMs: 30_000 } }));
    assert.equal(opened('tk-infra-lb-alb').idleTimeout, ALB_IDLE_TIMEOUT_SECONDS);
    // web-ui is Fastify with its default keep-alive; read it off a real Fastify server.
    const web = Fastify();
    try {
      assert.ok(ALB_IDLE_TIMEOUT_SECONDS * 1000 < web.server.keepAliveTimeout, `web-ui keep-alive ${web.server.keepAliveTimeout} ms must exceed the ALB idle timeout`);
    } finally {
      await web.close();
    }
    assert.ok(ALB_IDLE_TIMEOUT_SECONDS * 1000 < SENSOR_API_IDLE_TIMEOUT_MS);
    for (const definition of byType('aws:ecs/taskDefinition:TaskDefinition')) {
      const container = containerOf(definition.name);
      assert.equal(container.stopTimeout, 35, 'SIGTERM waits for the 30 s drain and 5 s more');
      assert.equal(container.environment.find((e) => e.name === 'TK_SHUTDOWN_TIMEOUT_MS')?.value, '30000');
    }
  });

  it('spreads over two availability zones: public and private subnets in each, the load balancer and the database on both', async () => {
    await declare(awsConfig('prod'));
    const subnets = byType('aws:ec2/subnet:Subnet').map((s) => [s.name, s.inputs.availabilityZone, s.inputs.cidrBlock]);
    assert.deepEqual(subnets.sort(), [
      ['tk-infra-network-private-0', MOCK_ZONES[0], '10.0.128.0/18'],
      ['tk-infra-network-private-1', MOCK_ZONES[1], '10.0.192.0/18'],
      ['tk-infra-network-public-0', MOCK_ZONES[0], '10.0.0.0/18'],
      ['tk-infra-network-public-1', MOCK_ZONES[1], '10.0.64.0/18'],
    ]);
    assert.deepEqual(opened('tk-infra-lb-alb').subnets, ['tk-infra-network-public-0-id', 'tk-infra-network-public-1-id']);
    assert.deepEqual(opened('tk-infra-db-subnets').subnetIds, ['tk-infra-network-private-0-id', 'tk-infra-network-private-1-id']);
    assert.equal(byType('aws:ec2/natGateway:NatGateway').length, 2, 'a NAT gateway per zone');
  });

  it('deploys into an existing VPC\'s subnets without declaring a network of its own', async () => {
    const vpc = { id: 'vpc-0123456789abcdef0', publicSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'], privateSubnetIds: ['subnet-0bbbbbbbbbbbbbbb1', 'subnet-0bbbbbbbbbbbbbbb2'] };
    await declare(awsConfig('prod', { vpc }));
    assert.deepEqual(recorded.filter((r) => /aws:ec2\/(vpc|subnet|natGateway|internetGateway):/.test(r.type)), []);
    assert.deepEqual(opened('tk-infra-lb-alb').subnets, vpc.publicSubnetIds);
    assert.deepEqual(opened('tk-infra-db-subnets').subnetIds, vpc.privateSubnetIds);
    assert.equal(opened('tk-infra-network-tasks').vpcId, vpc.id);
  });

  it('starts every slot\'s service empty and leaves its task definition and count to the release; a failed deployment rolls back', async () => {
    await declare(awsConfig('prod'));
    const services = byType('aws:ecs/service:Service');
    assert.equal(services.length, 4);
    for (const service of services) {
      assert.equal(service.inputs.desiredCount, 0);
      assert.equal(service.inputs.launchType, 'FARGATE');
      assert.deepEqual(service.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
      assert.deepEqual(service.ignoreChanges, ['taskDefinition', 'desiredCount']);
    }
    const blueGrpc = opened('tk-infra-blue-sensor-api', SERVICE);
    assert.deepEqual(blueGrpc.loadBalancers, [{ targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tk-prod-blue-grpc/0123456789abcdef', containerName: 'sensor-api', containerPort: 50051 }]);
    const container = containerOf('tk-infra-blue-sensor-api');
    assert.equal(container.image, '123456789012.dkr.ecr.eu-west-1.amazonaws.com/tk-prod/trapperkeeper:0.1.0-0123abcd-20261123T101500Z');
    assert.deepEqual(container.command, ['sensor-api']);
  });

  it('keeps logs for aws.logRetentionDays, one group per service', async () => {
    await declare(awsConfig('prod', { logRetentionDays: 90 }));
    assert.deepEqual(byType('aws:cloudwatch/logGroup:LogGroup').map((g) => [g.inputs.name, g.inputs.retentionInDays]).sort(), [
      ['/trapperkeeper/prod/sensor-api', 90],
      ['/trapperkeeper/prod/web-ui', 90],
    ]);
    assert.equal(containerOf('tk-infra-green-web-ui').logConfiguration.options['awslogs-group'], '/trapperkeeper/prod/web-ui');
  });

  it('expires only snapshots a newer verified one replaced, after snapshots.retentionDays', async () => {
    await declare(awsConfig('prod', {}, { snapshots: { retentionDays: 7 } }));
    assert.deepEqual(opened('tk-infra-snapshots', BUCKET).bucket, 'tk-prod-snapshots-eu-west-1');
    const lifecycle = byType('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration')[0]!;
    assert.deepEqual(unwrapSecrets(lifecycle.inputs.rules), [
      { id: 'trapperkeeper-snapshot-retention', status: 'Enabled', filter: { and: { prefix: 'snapshots/', tags: { retention: 'expirable' } } }, expiration: { days: 7 } },
    ]);
    assert.equal(opened('tk-infra-snapshots', BUCKET).forceDestroy, false, 'a non-ephemeral stack never deletes its snapshots with the bucket');
  });

  it('names fit AWS\'s limits for the longest stack name the config accepts', () => {
    const names = awsNames('s'.repeat(AWS_MAX_STACK_NAME), 'ap-southeast-4');
    assert.ok(names.loadBalancer.length <= AWS_NAME_LIMITS.loadBalancer);
    for (const slot of ['blue', 'green'] as const) {
      for (const service of ['sensor-api', 'web-ui'] as const) {
        assert.ok(names.targetGroup(slot, service).length <= AWS_NAME_LIMITS.targetGroup, names.targetGroup(slot, service));
        assert.ok(names.service(slot, service).length <= AWS_NAME_LIMITS.service);
      }
    }
    assert.ok(names.database.length <= AWS_NAME_LIMITS.database);
    assert.ok(names.snapshotBucket.length <= AWS_NAME_LIMITS.bucket, names.snapshotBucket);
    assert.equal(names.targetGroup('green', 'sensor-api').length, AWS_NAME_LIMITS.targetGroup, 'the limit is reached exactly: one more character would not fit');
  });
});
