import { z } from 'zod';
import type { ConfigExamples, ConfigProblem } from '../config-errors.js';
import { configRemoveCommand, configSetCommand, validFields } from '../config-errors.js';

/** Defaults of the gcp section, named so the schema, the docs and the tests agree. */
export const DEFAULT_GCP_DATABASE = {
  /** A dedicated-core machine: Cloud SQL's shared-core tiers (db-f1-micro) have no SLA and no HA. */
  tier: 'db-custom-1-3840',
  highAvailability: false,
  backups: true,
  deletionProtection: true,
} as const;
export const DEFAULT_ARTIFACT_REPOSITORY = 'trapperkeeper';
/** One instance stays warm: a sensor's gRPC stream and the first page load need no cold start. */
export const DEFAULT_INSTANCES = { min: 1, max: 10 } as const;
/** Cloud Run's own ceiling of instances per revision without a quota raise. */
export const MAX_INSTANCES_LIMIT = 1000;

/**
 * How the services reach Cloud SQL: `connector`, Cloud Run's built-in Cloud SQL connection (a
 * unix socket under /cloudsql, authorized by IAM, no network path to the instance), or
 * `privateIp`, the instance's address in a VPC that the services join with Direct VPC egress.
 */
export const GCP_CONNECTION_MODES = ['connector', 'privateIp'] as const;
export type GcpConnectionMode = (typeof GCP_CONNECTION_MODES)[number];
export const DEFAULT_CONNECTION_MODE: GcpConnectionMode = 'connector';

// Google's rules: https://cloud.google.com/resource-manager/docs/creating-managing-projects
const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const PROJECT_NUMBER = /^[1-9][0-9]{5,19}$/;
const REGION = /^[a-z]+-[a-z]+[0-9]+$/;
const TIER = /^db-(custom-[0-9]+-[0-9]+|[a-z0-9]+(-[a-z0-9]+)*)$/;
const REPOSITORY_ID = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const NETWORK = /^(projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/global\/networks\/)?[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

const count = (what: string) =>
  z.int({ error: (issue) => (issue.input === undefined ? undefined : `must be a whole number (${what})`) });

const instancesShape = {
  min: count('instances kept running').min(0, { error: 'must be at least 0' }).max(MAX_INSTANCES_LIMIT, { error: `must be at most ${MAX_INSTANCES_LIMIT}` }).default(DEFAULT_INSTANCES.min),
  max: count('instances at most').min(1, { error: 'must be at least 1' }).max(MAX_INSTANCES_LIMIT, { error: `must be at most ${MAX_INSTANCES_LIMIT}` }).default(DEFAULT_INSTANCES.max),
};

const connectionMode = z.enum(GCP_CONNECTION_MODES, {
  error: (issue) => (issue.input === undefined ? undefined : `must be one of ${GCP_CONNECTION_MODES.join(', ')}`),
});
const network = z.string().regex(NETWORK, { error: 'must be a VPC network name like default, or projects/<project>/global/networks/<name>' });

/**
 * The gcp section of the stack config (trapperkeeper:gcp): Cloud Run, Cloud SQL for PostgreSQL,
 * Artifact Registry and Secret Manager in one project and region.
 *
 * project: the Google Cloud project id. Required. @example tk-prod-123456
 * projectNumber: the project's number, which Cloud Run puts in every service URL
 *   (https://<service>-<number>.<region>.run.app), so the release knows where users reach the app
 *   before the services exist. Required. @example 123456789012
 * region: where every regional resource lives. Required. @example europe-west1
 * database.tier: Cloud SQL machine tier. @default db-custom-1-3840
 * database.highAvailability: a standby in a second zone (availabilityType REGIONAL). @default false
 * database.backups: daily automated backups with point-in-time recovery. @default true
 * database.deletionProtection: Cloud SQL and Pulumi both refuse to delete the instance. @default true
 * artifactRepository: the Artifact Registry (Docker) repository id of the app image. @default trapperkeeper
 * instances.min: Cloud Run instances each service keeps running. @default 1
 * instances.max: Cloud Run instances each service may scale to. @default 10
 * connection: how the services reach Cloud SQL: connector (built-in, IAM) or privateIp (VPC). @default connector
 * network: the VPC network with private services access, with connection privateIp. @default unset
 */
export const gcpSectionSchema = z.strictObject({
  project: z.string({ error: (issue) => (issue.input === undefined ? 'is required' : undefined) }).regex(PROJECT_ID, {
    error: 'must be a Google Cloud project id: 6-30 lowercase letters, digits and -, starting with a letter (not the project number or display name)',
  }),
  // `pulumi config set --path` stores digits as a YAML number; both forms are the same number.
  projectNumber: z.preprocess(
    (value) => (typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value),
    z
      .string({ error: (issue) => (issue.input === undefined ? 'is required' : undefined) })
      .regex(PROJECT_NUMBER, { error: 'must be the project\'s number (digits only), not its id: gcloud projects describe <project> --format="value(projectNumber)"' }),
  ),
  region: z.string({ error: (issue) => (issue.input === undefined ? 'is required' : undefined) }).regex(REGION, { error: 'must be a Google Cloud region like europe-west1 or us-central1 (not a zone)' }),
  database: z
    .strictObject({
      tier: z.string().regex(TIER, { error: 'must be a Cloud SQL tier like db-custom-2-7680 or db-perf-optimized-N-2' }).default(DEFAULT_GCP_DATABASE.tier),
      highAvailability: z.boolean().default(DEFAULT_GCP_DATABASE.highAvailability),
      backups: z.boolean().default(DEFAULT_GCP_DATABASE.backups),
      deletionProtection: z.boolean().default(DEFAULT_GCP_DATABASE.deletionProtection),
    })
    .prefault({}),
  artifactRepository: z
    .string()
    .regex(REPOSITORY_ID, { error: 'must be an Artifact Registry repository id: lowercase letters, digits and -, starting with a letter, at most 63 characters' })
    .default(DEFAULT_ARTIFACT_REPOSITORY),
  instances: z.strictObject(instancesShape).prefault({}),
  connection: connectionMode.default(DEFAULT_CONNECTION_MODE),
  network: network.optional(),
});

export type GcpSection = z.output<typeof gcpSectionSchema>;

/** Example values of every gcp key, for the fix of a problem with it. */
export const GCP_CONFIG_EXAMPLES: ConfigExamples = {
  'gcp.project': 'tk-prod-123456',
  'gcp.projectNumber': '123456789012',
  'gcp.region': 'europe-west1',
  'gcp.database.tier': DEFAULT_GCP_DATABASE.tier,
  'gcp.database.highAvailability': 'true',
  'gcp.database.backups': 'true',
  'gcp.database.deletionProtection': 'true',
  'gcp.artifactRepository': DEFAULT_ARTIFACT_REPOSITORY,
  'gcp.instances.min': String(DEFAULT_INSTANCES.min),
  'gcp.instances.max': String(DEFAULT_INSTANCES.max),
  'gcp.connection': DEFAULT_CONNECTION_MODE,
  'gcp.network': 'default',
};

/** Cloud Run refuses a minimum above the maximum; say so before anything is declared. */
export function ensureInstanceRange(instances: { min?: number | undefined; max?: number | undefined }): ConfigProblem[] {
  const min = instances.min ?? DEFAULT_INSTANCES.min;
  const max = instances.max ?? DEFAULT_INSTANCES.max;
  if (min <= max) return [];
  return [{ path: 'gcp.instances.min', problem: `is ${min}, above gcp.instances.max (${max})`, fix: configSetCommand('gcp.instances.max', String(min)) }];
}

/** privateIp needs the VPC to put the instance in; the connector needs none, so one set there is a mistake. */
export function ensureNetworkMatchesConnection(connection: GcpConnectionMode | undefined, networkSet: boolean): ConfigProblem[] {
  const mode = connection ?? DEFAULT_CONNECTION_MODE;
  if (mode === 'privateIp' && !networkSet) {
    return [
      {
        path: 'gcp.network',
        problem: 'is required with gcp.connection privateIp: the VPC network (with private services access) the database and the services join',
        fix: `${configSetCommand('gcp.network', GCP_CONFIG_EXAMPLES['gcp.network'] ?? 'default')} (or ${configSetCommand('gcp.connection', 'connector')})`,
      },
    ];
  }
  if (mode === 'connector' && networkSet) {
    return [{ path: 'gcp.network', problem: 'only applies with gcp.connection privateIp, and the connection is connector', fix: `${configRemoveCommand('gcp.network')} (or ${configSetCommand('gcp.connection', 'privateIp')})` }];
  }
  return [];
}

/**
 * Every GCP resource of a stack is named `tk-<stack>-...`; the tightest limit is a service
 * account id (6-30 characters: lowercase letters, digits and -, starting with a letter), and
 * `tk-<stack>-run` must fit it.
 */
export const GCP_STACK_NAME = /^[a-z0-9](?:[a-z0-9-]{0,21}[a-z0-9])?$/;
export const GCP_STACK_NAME_MAX = 23;

export function ensureStackNamesGcpResources(stack: string): ConfigProblem[] {
  if (GCP_STACK_NAME.test(stack)) return [];
  const suggestion =
    stack
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, GCP_STACK_NAME_MAX)
      .replace(/-+$/, '') || 'dev';
  return [
    {
      path: '',
      subject: `stack '${stack}'`,
      problem: `names Google Cloud resources (tk-<stack>-run is a service account id, at most 30 characters), so it must be at most ${GCP_STACK_NAME_MAX} lowercase letters, digits and -, not starting or ending with -`,
      fix: `pulumi stack rename ${suggestion}`,
    },
  ];
}

/** The named cross-field checks of the gcp section, on its raw value (each on the fields valid on their own). */
export function checkGcpSection(raw: unknown, stack: string): ConfigProblem[] {
  const { connection, network: networkValue } = validFields({ shape: { connection: connectionMode.optional(), network: network.optional() } }, raw);
  const networkSet = networkValue !== undefined || rawField(raw, 'network') !== undefined;
  return [...ensureInstanceRange(validFields({ shape: instancesShape }, rawField(raw, 'instances'))), ...ensureNetworkMatchesConnection(connection, networkSet), ...ensureStackNamesGcpResources(stack)];
}

function rawField(raw: unknown, key: string): unknown {
  return raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>)[key] : undefined;
}
