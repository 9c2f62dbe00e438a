import type { AppService, Slot } from '../../components/release/plan.js';

/**
 * Physical names of a stack's AWS resources, fixed by the stack and region alone, so the release
 * plan (written before anything exists) can name them and the release process finds them by name.
 * Stack names are limited by ensureStackNamesAwsResources so every name fits its service's limit.
 */
export interface AwsNames {
  /** `tk-<stack>`: the load balancer, the ECS cluster. */
  prefix: string;
  loadBalancer: string;
  cluster: string;
  /** Target group of one service in one slot (at most 32 characters). */
  targetGroup(slot: Slot, service: AppService): string;
  /** ECS service of one service in one slot. */
  service(slot: Slot, service: AppService): string;
  /** RDS instance identifier. */
  database: string;
  repository: string;
  /** Secrets Manager secret of one stack secret. */
  secret(name: AwsSecretName): string;
  logGroup(service: AppService): string;
  lockTable: string;
  snapshotBucket: string;
}

/**
 * The secrets a task reads from Secrets Manager (never from its plain environment), by the app
 * variable each becomes. The app has no session secret of its own: sessions live in the database
 * and CSRF keys derive from TK_HMAC_SECRET. TK_DATABASE_URL carries no password (the app joins
 * TK_DATABASE_PASSWORD to it), so it may stay in the plain environment.
 */
export const AWS_SECRETS = { 'hmac-secret': 'TK_HMAC_SECRET', 'database-password': 'TK_DATABASE_PASSWORD' } as const;
export type AwsSecretName = keyof typeof AWS_SECRETS;

/** Short service names for target groups, whose names are limited to 32 characters. */
const SHORT: Record<AppService, string> = { 'sensor-api': 'grpc', 'web-ui': 'web' };

/** AWS's own limits, checked by the tests for the longest stack name the config accepts. */
export const AWS_NAME_LIMITS = {
  loadBalancer: 32,
  targetGroup: 32,
  database: 63,
  snapshotIdentifier: 255,
  subnetGroup: 255,
  bucket: 63,
  lockTable: 255,
  service: 255,
  cluster: 255,
  taskFamily: 255,
  iamRole: 64,
  securityGroup: 255,
  logGroup: 512,
  repository: 256,
  secret: 512,
} as const;

export function awsNames(stack: string, region: string, snapshotBucket?: string): AwsNames {
  const prefix = `tk-${stack}`;
  return {
    prefix,
    loadBalancer: prefix,
    cluster: prefix,
    targetGroup: (slot, service) => `${prefix}-${slot}-${SHORT[service]}`,
    service: (slot, service) => `${prefix}-${slot}-${service}`,
    database: `${prefix}-postgres`,
    repository: `${prefix}/trapperkeeper`,
    secret: (name) => `${prefix}/${name}`,
    logGroup: (service) => `/trapperkeeper/${stack}/${service}`,
    lockTable: `${prefix}-deploy-lock`,
    snapshotBucket: snapshotBucket ?? `${prefix}-snapshots-${region}`,
  };
}
