import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import program from '../../index.js';
import { repositoryStackConfig } from '../docker/testing.js';
import { byName, byType, installAwsMocks, isWrappedSecret, plainOccurrences, recorded, settle, unwrapSecrets, type RecordedAwsResource } from './mocks.js';
import { AWS_NAME_LIMITS } from './names.js';
import { AWS_CANARY, AWS_CANARY_ENV } from './testing.js';

/**
 * The example stack Pulumi.staging.yaml itself, as `pulumi preview -s staging` runs it: the
 * program (index.ts) under mocks with the stack file's config, compared with a reviewed golden
 * file of every resource's type, name, parent and key inputs (secrets shown only as [secret]).
 */
const GOLDEN = fileURLToPath(new URL('./fixtures/staging-graph.golden.txt', import.meta.url));
const GIT = { commit: '0123abcd'.padEnd(40, 'e'), committedAt: new Date('2026-11-23T10:15:00Z'), dirtyFiles: [] };

type Inputs = Record<string, unknown>;

/** The inputs worth reviewing per resource type; the rest is wiring (ids of other resources). */
const KEY_INPUTS: Record<string, string[]> = {
  'pulumi:providers:aws': ['region', 'defaultTags'],
  'aws:ec2/vpc:Vpc': ['cidrBlock', 'enableDnsHostnames', 'enableDnsSupport'],
  'aws:ec2/subnet:Subnet': ['availabilityZone', 'cidrBlock', 'mapPublicIpOnLaunch'],
  'aws:ec2/securityGroup:SecurityGroup': ['name'],
  'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule': ['securityGroupId', 'ipProtocol', 'fromPort', 'toPort', 'cidrIpv4', 'cidrIpv6', 'referencedSecurityGroupId'],
  'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule': ['securityGroupId', 'ipProtocol', 'fromPort', 'toPort', 'cidrIpv4', 'cidrIpv6', 'referencedSecurityGroupId'],
  'aws:rds/instance:Instance': [
    'identifier', 'engine', 'engineVersion', 'instanceClass', 'allocatedStorage', 'storageType', 'storageEncrypted', 'multiAz', 'backupRetentionPeriod',
    'deletionProtection', 'skipFinalSnapshot', 'finalSnapshotIdentifier', 'publiclyAccessible', 'dbName', 'username', 'password', 'port',
  ],
  'aws:rds/subnetGroup:SubnetGroup': ['name', 'subnetIds'],
  'aws:lb/loadBalancer:LoadBalancer': ['name', 'loadBalancerType', 'internal', 'idleTimeout', 'subnets'],
  'aws:lb/listener:Listener': ['port', 'protocol', 'sslPolicy', 'certificateArn', 'defaultActions'],
  'aws:lb/targetGroup:TargetGroup': ['name', 'port', 'protocol', 'protocolVersion', 'targetType', 'deregistrationDelay', 'healthCheck'],
  'aws:ecs/cluster:Cluster': ['name'],
  'aws:ecs/service:Service': ['name', 'launchType', 'desiredCount', 'deploymentCircuitBreaker', 'networkConfiguration', 'loadBalancers'],
  'aws:ecs/taskDefinition:TaskDefinition': ['family', 'cpu', 'memory', 'requiresCompatibilities', 'containerDefinitions'],
  'aws:cloudwatch/logGroup:LogGroup': ['name', 'retentionInDays'],
  'aws:dynamodb/table:Table': ['name', 'billingMode', 'hashKey'],
  'aws:ecr/repository:Repository': ['name', 'imageTagMutability', 'forceDelete'],
  'aws:iam/role:Role': ['name', 'assumeRolePolicy'],
  'aws:iam/rolePolicy:RolePolicy': ['policy'],
  'aws:iam/rolePolicyAttachment:RolePolicyAttachment': ['policyArn'],
  'aws:s3/bucket:Bucket': ['bucket', 'forceDestroy'],
  'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration': ['rules'],
  'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration': ['rules'],
  'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock': ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets'],
  'aws:secretsmanager/secret:Secret': ['name'],
  'aws:secretsmanager/secretVersion:SecretVersion': ['secretString'],
  'docker:index/image:Image': ['imageName', 'build', 'registry'],
  'command:local:Command': ['create', 'update', 'delete', 'environment'],
};

/** A value for the golden file: each secret as [secret], JSON documents (policies, container definitions) opened, PEM certificates by name. */
function shown(value: unknown): unknown {
  if (isWrappedSecret(value)) return '[secret]';
  if (Array.isArray(value)) return value.map(shown);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shown(v)]));
  if (typeof value === 'string' && /^[[{]/.test(value)) {
    try {
      return shown(JSON.parse(value));
    } catch {
      return value;
    }
  }
  if (typeof value === 'string' && value.includes('-----BEGIN CERTIFICATE-----')) {
    const names = (value.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((pem) => /^CN=(.*)$/m.exec(new X509Certificate(pem).subject)?.[1]);
    return `[PEM certificates: ${names.join('; ')}]`;
  }
  return value;
}

function nameOfUrn(urn: string): string {
  return urn === '' ? '(root)' : (urn.split('::').pop() ?? urn);
}

function render(resource: RecordedAwsResource): string {
  const keys = (KEY_INPUTS[resource.type] ?? []).filter((key) => resource.inputs[key] !== undefined);
  const lines = keys.map((key) => `    ${key}: ${JSON.stringify(shown(resource.inputs[key]))}`);
  return [`${resource.type} ${resource.name} <- ${nameOfUrn(resource.parent)}`, ...lines].join('\n');
}

/** Names AWS limits by length, per resource type: [input, limit]. */
const NAME_LIMITS: Record<string, Array<[string, number]>> = {
  'aws:lb/loadBalancer:LoadBalancer': [['name', AWS_NAME_LIMITS.loadBalancer]],
  'aws:lb/targetGroup:TargetGroup': [['name', AWS_NAME_LIMITS.targetGroup]],
  'aws:rds/instance:Instance': [['identifier', AWS_NAME_LIMITS.database], ['finalSnapshotIdentifier', AWS_NAME_LIMITS.snapshotIdentifier]],
  'aws:rds/subnetGroup:SubnetGroup': [['name', AWS_NAME_LIMITS.subnetGroup]],
  'aws:s3/bucket:Bucket': [['bucket', AWS_NAME_LIMITS.bucket]],
  'aws:dynamodb/table:Table': [['name', AWS_NAME_LIMITS.lockTable]],
  'aws:ecs/service:Service': [['name', AWS_NAME_LIMITS.service]],
  'aws:ecs/cluster:Cluster': [['name', AWS_NAME_LIMITS.cluster]],
  'aws:ecs/taskDefinition:TaskDefinition': [['family', AWS_NAME_LIMITS.taskFamily]],
  'aws:iam/role:Role': [['name', AWS_NAME_LIMITS.iamRole]],
  'aws:ec2/securityGroup:SecurityGroup': [['name', AWS_NAME_LIMITS.securityGroup]],
  'aws:cloudwatch/logGroup:LogGroup': [['name', AWS_NAME_LIMITS.logGroup]],
  'aws:ecr/repository:Repository': [['name', AWS_NAME_LIMITS.repository]],
  'aws:secretsmanager/secret:Secret': [['name', AWS_NAME_LIMITS.secret]],
};

describe('the example stack Pulumi.staging.yaml (provider aws), through the program under mocks', () => {
  let dir: string;
  before(async () => {
    await installAwsMocks('staging');
    dir = mkdtempSync(join(tmpdir(), 'tk-aws-staging-'));
    mkdirSync(join(dir, 'app'));
    writeFileSync(join(dir, 'app', 'package.json'), '{"name":"trapperkeeper","version":"0.1.0"}\n');
    pulumi.runtime.setAllConfig(repositoryStackConfig('staging'), []);
    await program({ dir, processEnv: AWS_CANARY_ENV, git: GIT });
    await settle();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('declares the reviewed resource graph: types, names, parents and key inputs', () => {
    // The build context is the project folder, a temporary one here.
    const text = `${[...recorded].sort((a, b) => (a.type + a.name < b.type + b.name ? -1 : 1)).map(render).join('\n')}\n`.replaceAll(dir, '<project>');
    if (process.env.TK_UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, text);
    assert.equal(text, readFileSync(GOLDEN, 'utf8'), 'the graph changed: review it, then TK_UPDATE_GOLDEN=1 to accept');
  });

  it('holds the stack secrets only as secrets: nowhere in plain text, wrapped where they are inputs', () => {
    for (const canary of Object.values(AWS_CANARY)) {
      for (const resource of recorded) assert.deepEqual(plainOccurrences(resource.inputs, canary), [], `${resource.type} ${resource.name} holds a secret in plain text`);
    }
    const versions = byType('aws:secretsmanager/secretVersion:SecretVersion');
    assert.deepEqual(versions.map((v) => isWrappedSecret(v.inputs.secretString)), [true, true]);
    assert.deepEqual(versions.map((v) => (unwrapSecrets(v.inputs) as Inputs).secretString).sort(), [AWS_CANARY.hmacSecret, AWS_CANARY.postgresPassword].sort());
    assert.ok(isWrappedSecret(byName('tk-infra-db', 'aws:rds/instance:Instance').inputs.password), 'the RDS master password');
    for (const definition of byType('aws:ecs/taskDefinition:TaskDefinition')) {
      const [container] = JSON.parse(String(unwrapSecrets(definition.inputs.containerDefinitions))) as Array<{ environment: Array<{ name: string }>; secrets: Array<{ name: string; valueFrom: string }> }>;
      assert.deepEqual(container!.secrets.map((s) => s.name), ['TK_HMAC_SECRET', 'TK_DATABASE_PASSWORD'], definition.name);
      assert.ok(container!.secrets.every((s) => s.valueFrom.startsWith('arn:aws:secretsmanager:eu-west-1:')), definition.name);
      assert.ok(!container!.environment.some((e) => e.name === 'TK_HMAC_SECRET' || e.name === 'TK_DATABASE_PASSWORD'), definition.name);
    }
  });

  it('keeps the data: deletion protection, a final snapshot, encrypted private storage, snapshots kept with the bucket', () => {
    const db = unwrapSecrets(byName('tk-infra-db', 'aws:rds/instance:Instance').inputs) as Inputs;
    assert.deepEqual(
      [db.deletionProtection, db.skipFinalSnapshot, db.finalSnapshotIdentifier, db.storageEncrypted, db.publiclyAccessible, db.backupRetentionPeriod],
      [true, false, 'tk-staging-postgres-final', true, false, 7],
    );
    assert.equal(byName('tk-infra-snapshots', 'aws:s3/bucket:Bucket').inputs.forceDestroy, false);
  });

  it('names every resource within AWS\'s length limits', () => {
    let checked = 0;
    for (const resource of recorded) {
      for (const [key, limit] of NAME_LIMITS[resource.type] ?? []) {
        const name = resource.inputs[key];
        if (name === undefined) continue;
        assert.equal(typeof name, 'string', `${resource.name}.${key}`);
        assert.ok((name as string).length <= limit, `${resource.type} ${resource.name}: ${key} ${String(name)} is longer than ${limit}`);
        checked += 1;
      }
    }
    assert.ok(checked >= 25, `${checked} names checked`);
  });
});
