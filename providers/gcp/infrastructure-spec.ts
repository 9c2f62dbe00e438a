import type { AppService } from '../../components/release/plan.js';
import { APP_PORTS } from '../../components/release/plan.js';
import type { GcpStackConfig } from '../config.js';
import type { GcpConnectionMode } from './config.js';
import { gcpJobSpecs, type GcpJobKind, type GcpJobSpec } from './jobs/job-specs.js';

/**
 * Everything the GCP target declares, as plain data decided from the stack config: names within
 * Google's limits, the database's protection, how the services reach it, the secrets and which
 * variable each becomes. GcpTarget (target.ts) maps it to resources one to one.
 */
export const POSTGRES_VERSION = 'POSTGRES_16';
/** The image's name inside the Artifact Registry repository. */
export const APP_IMAGE_NAME = 'trapperkeeper';
/** Where Cloud Run mounts the Cloud SQL connector's unix sockets. */
export const CLOUD_SQL_MOUNT = '/cloudsql';
/** Backups start in this UTC hour window (Cloud SQL picks the minute). */
export const BACKUP_START_TIME = '03:00';
export const BACKUP_RETENTION_DAYS = 7;

/** Google's limits on the names this target makes (the tightest ones only). */
export const NAME_LIMITS = { serviceAccountId: 30, cloudRunService: 49, cloudRunJob: 63, cloudSqlInstance: 98, secretId: 255, bucket: 63 } as const;

/**
 * The app's secrets. There is no session secret: the web UI's sessions are random tokens kept in
 * the database, and the app refuses an unknown TK_WEB_UI_* variable, so none is mounted.
 */
export type GcpSecretKey = 'hmac' | 'databasePassword';

export interface GcpSecretSpec {
  key: GcpSecretKey;
  /** Secret Manager secret id. */
  secretId: string;
  /** The app variable it becomes, through a secretKeyRef (never a plain value). */
  env: string;
  /** The services that read it (each gets secretAccessor on this secret only). */
  services: AppService[];
}

export interface GcpServiceSpec {
  service: AppService;
  name: string;
  /** The app's subcommand. */
  args: string[];
  containerPort: number;
  /** `h2c` makes Cloud Run speak HTTP/2 cleartext to the container end to end (gRPC); `http1` otherwise. */
  portName: 'h2c' | 'http1';
  /** How Cloud Run checks a new instance before it gets requests. */
  startupProbe: { kind: 'grpc'; port: number } | { kind: 'http'; path: string; port: number };
  /** How long one request may last: a sensor's gRPC stream stays open up to an hour. */
  timeoutSeconds: number;
}

export interface GcpInfrastructureSpec {
  project: string;
  region: string;
  prefix: string;
  serviceAccountId: string;
  artifactRepository: string;
  /** `<region>-docker.pkg.dev/<project>/<repository>/trapperkeeper` (the tag is the release's). */
  imageRepository: string;
  database: {
    instance: string;
    tier: string;
    availabilityType: 'REGIONAL' | 'ZONAL';
    backups: boolean;
    deletionProtection: boolean;
    name: string;
    user: string;
    connection: GcpConnectionMode;
    network?: string;
  };
  /** The release-state bucket: the deploy lock and the snapshots (deleted after retentionDays). */
  stateBucket: { name: string; snapshotRetentionDays: number };
  secrets: GcpSecretSpec[];
  services: Record<AppService, GcpServiceSpec>;
  /** The release's Cloud Run jobs (migrations, pg_dump), declared next to the services. */
  jobs: Record<GcpJobKind, GcpJobSpec>;
  instances: { min: number; max: number };
  endpoints: { publicHttpUrl: string; publicGrpcAddress: string };
}

export function stackPrefix(stack: string): string {
  return `tk-${stack}`;
}

/** Cloud Run's deterministic URL of a service: https://<service>-<project number>.<region>.run.app */
export function cloudRunUrl(service: string, projectNumber: string, region: string): string {
  return `https://${service}-${projectNumber}.${region}.run.app`;
}

/** What the spec is decided from: the parts of a validated GcpStackConfig it reads (also built from a stack file by stack-file.ts). */
export interface GcpInfrastructureInput {
  stack: string;
  gcp: GcpStackConfig['gcp'];
  database: { name: string; user: string };
  snapshots: { retentionDays: number };
  app: { publicUrl?: string | undefined };
}

export function planGcpInfrastructure(config: GcpInfrastructureInput): GcpInfrastructureSpec {
  const { gcp } = config;
  const prefix = stackPrefix(config.stack);
  const services: Record<AppService, GcpServiceSpec> = {
    'sensor-api': {
      service: 'sensor-api',
      name: `${prefix}-sensor-api`,
      args: ['sensor-api'],
      containerPort: APP_PORTS.sensorApiGrpc,
      portName: 'h2c',
      startupProbe: { kind: 'grpc', port: APP_PORTS.sensorApiGrpc },
      timeoutSeconds: 3600,
    },
    'web-ui': {
      service: 'web-ui',
      name: `${prefix}-web-ui`,
      args: ['web-ui'],
      containerPort: APP_PORTS.webUi,
      portName: 'http1',
      startupProbe: { kind: 'http', path: '/readyz', port: APP_PORTS.webUi },
      timeoutSeconds: 300,
    },
  };
  const sensorUrl = new URL(cloudRunUrl(services['sensor-api'].name, gcp.projectNumber, gcp.region));
  return {
    project: gcp.project,
    region: gcp.region,
    prefix,
    serviceAccountId: `${prefix}-run`,
    artifactRepository: gcp.artifactRepository,
    imageRepository: `${gcp.region}-docker.pkg.dev/${gcp.project}/${gcp.artifactRepository}/${APP_IMAGE_NAME}`,
    database: {
      instance: `${prefix}-postgres`,
      tier: gcp.database.tier,
      availabilityType: gcp.database.highAvailability ? 'REGIONAL' : 'ZONAL',
      backups: gcp.database.backups,
      deletionProtection: gcp.database.deletionProtection,
      name: config.database.name,
      user: config.database.user,
      connection: gcp.connection,
      ...(gcp.network !== undefined ? { network: gcp.network } : {}),
    },
    // Bucket names are global: the project id keeps two projects' stacks of the same name apart.
    stateBucket: { name: `${prefix}-release-${gcp.project}`.slice(0, NAME_LIMITS.bucket).replace(/-+$/, ''), snapshotRetentionDays: config.snapshots.retentionDays },
    secrets: [
      { key: 'hmac', secretId: `${prefix}-hmac-secret`, env: 'TK_HMAC_SECRET', services: ['sensor-api', 'web-ui'] },
      { key: 'databasePassword', secretId: `${prefix}-database-password`, env: 'TK_DATABASE_PASSWORD', services: ['sensor-api', 'web-ui'] },
    ],
    services,
    jobs: gcpJobSpecs({ services: { 'sensor-api': services['sensor-api'].name, 'web-ui': services['web-ui'].name } }),
    instances: { ...gcp.instances },
    endpoints: {
      publicHttpUrl: config.app.publicUrl ?? cloudRunUrl(services['web-ui'].name, gcp.projectNumber, gcp.region),
      publicGrpcAddress: `${sensorUrl.hostname}:443`,
    },
  };
}

/** The services' account as Google names it (known before it exists). */
export function serviceAccountEmail(spec: Pick<GcpInfrastructureSpec, 'serviceAccountId' | 'project'>): string {
  return `${spec.serviceAccountId}@${spec.project}.iam.gserviceaccount.com`;
}

/** The Cloud SQL instance's connection name, `<project>:<region>:<instance>` (known before it exists). */
export function cloudSqlConnectionName(spec: Pick<GcpInfrastructureSpec, 'project' | 'region' | 'database'>): string {
  return `${spec.project}:${spec.region}:${spec.database.instance}`;
}

/**
 * TK_DATABASE_URL without the password (that comes from its own secret, TK_DATABASE_PASSWORD).
 * Connector: the unix socket Cloud Run mounts (`host` as a query parameter wins over the URL's
 * host in node-postgres; `localhost` only satisfies URL parsing). Private IP: the instance's
 * address in the VPC, TLS required without CA pinning (Cloud SQL's server CA is per instance).
 */
export function databaseUrl(spec: GcpInfrastructureSpec, target: { connectionName: string; privateIp: string }): string {
  const { user, name } = spec.database;
  if (spec.database.connection === 'connector') {
    return `postgresql://${encodeURIComponent(user)}@localhost/${encodeURIComponent(name)}?host=${encodeURIComponent(`${CLOUD_SQL_MOUNT}/${target.connectionName}`)}`;
  }
  return `postgresql://${encodeURIComponent(user)}@${target.privateIp}:5432/${encodeURIComponent(name)}?sslmode=no-verify`;
}
