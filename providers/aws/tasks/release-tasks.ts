import type { ContainerDefinition, KeyValuePair, TaskDefinition } from '@aws-sdk/client-ecs';
import { DeployError } from '../../../components/errors.js';
import type { ReleasePlan } from '../../../components/release/plan.js';
import { DATABASE_CA_ENV } from '../database/rds-ca.js';
import { AWS_SECRETS } from '../names.js';
import type { AwsTargetPlan } from '../plan-target.js';
import { registrationFrom, releaseEnvironment, releaseImage, RELEASE_ID_TAG, templateContainer } from '../slots/task-definitions.js';

/**
 * The task definitions of a release's one-off tasks, from the blue sensor-api template (the same
 * subnets, roles, database URL and secrets as the services):
 *
 * - `<cluster>-migrate`: the release image's `trapperkeeper migrate`, its arguments given per run.
 * - `<cluster>-snapshot`: `pg_dump -Fc` from the PostgreSQL client image into a task volume, then
 *   the release image (node) uploads the file to a presigned S3 URL (If-None-Match: never over
 *   another snapshot) and prints the SHA-256 of what it sent, which the release checks against a
 *   full read of the object. The password reaches pg_dump as a Secrets Manager reference, never
 *   on a command line or in a plain variable. pg_dump verifies the server as the app does: with
 *   the template's CAs (TK_DATABASE_CA) written to a file for libpq's sslrootcert.
 */
export const ONE_OFF_TEMPLATE = { slot: 'blue', service: 'sensor-api' } as const;
export const MIGRATE_CONTAINER = 'migrate';
export const SNAPSHOT_CONTAINERS = { dump: 'dump', upload: 'upload' } as const;
/** The app image's user (app/Dockerfile), who must read the dump pg_dump (as root) wrote. */
export const APP_UID = 10001;
export const SNAPSHOT_FILE = '/snapshot/snapshot.dump';
export const SNAPSHOT_UPLOAD_URL_ENV = 'TK_SNAPSHOT_UPLOAD_URL';
/** Where the dump container writes the template's database CAs for libpq (it reads a file, not a variable). */
export const DATABASE_CA_FILE = '/tmp/database-ca.pem';
/** Upper bound of one pg_dump inside the task (`timeout`), as on Docker. */
export const SNAPSHOT_DUMP_TIMEOUT_S = 3_600;

export function migrateFamily(target: AwsTargetPlan): string {
  return `${target.cluster}-migrate`;
}
export function snapshotFamily(target: AwsTargetPlan): string {
  return `${target.cluster}-snapshot`;
}

function logsFor(container: ContainerDefinition, prefix: string): ContainerDefinition['logConfiguration'] {
  const options = container.logConfiguration?.options;
  return container.logConfiguration ? { ...container.logConfiguration, options: { ...options, 'awslogs-stream-prefix': prefix } } : undefined;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Pure: the migrate task definition of `plan`'s release. */
export function migrateTaskDefinition(template: TaskDefinition, plan: ReleasePlan, target: AwsTargetPlan) {
  const container = templateContainer(template, ONE_OFF_TEMPLATE.service);
  const migrate: ContainerDefinition = withoutUndefined({
    name: MIGRATE_CONTAINER,
    image: releaseImage(container.image ?? '', plan),
    essential: true,
    command: ['migrate'],
    environment: releaseEnvironment(container.environment ?? [], plan),
    secrets: container.secrets,
    logConfiguration: logsFor(container, MIGRATE_CONTAINER),
    cpu: container.cpu,
    memory: container.memory,
  });
  return registrationFrom(template, migrateFamily(target), [migrate], [{ key: RELEASE_ID_TAG, value: plan.image.releaseId }]);
}

/**
 * libpq's variables for the database the app's URL names (node-postgres's `sslmode=no-verify`,
 * encrypted without a verified certificate, is libpq's `require`). With the app's CAs
 * (`caFile`, written from TK_DATABASE_CA), libpq verifies the server against them as the app
 * does: verify-full, the chain and the host name.
 */
export function libpqEnvironment(databaseUrl: string, caFile?: string): KeyValuePair[] {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new DeployError('TK_DATABASE_URL of the task template is not a URL', '`pulumi up` declares it');
  }
  if (url.password) throw new DeployError('TK_DATABASE_URL of the task template carries a password; the password is a Secrets Manager reference', '`pulumi up` declares it without one');
  const sslmode = url.searchParams.get('sslmode');
  const env: Record<string, string> = {
    PGHOST: url.hostname,
    PGPORT: url.port || '5432',
    PGUSER: decodeURIComponent(url.username),
    PGDATABASE: decodeURIComponent(url.pathname.replace(/^\//, '')),
    PGSSLMODE: sslmode === 'no-verify' ? 'require' : (sslmode ?? (caFile !== undefined ? 'verify-full' : 'prefer')),
    ...(caFile !== undefined ? { PGSSLROOTCERT: caFile } : {}),
  };
  return Object.entries(env).map(([name, value]) => ({ name, value }));
}

/** Reads the dump, PUTs it to the presigned URL (never over an existing object), prints what it sent. */
export const UPLOAD_SCRIPT = [
  "const fs = require('node:fs'); const crypto = require('node:crypto');",
  `const body = fs.readFileSync(${JSON.stringify(SNAPSHOT_FILE)});`,
  "const sha256 = crypto.createHash('sha256').update(body).digest('hex');",
  `fetch(process.env.${SNAPSHOT_UPLOAD_URL_ENV}, { method: 'PUT', body, headers: { 'if-none-match': '*' } }).then(`,
  "  async (r) => { if (!r.ok) { console.error('upload failed: HTTP ' + r.status + ' ' + (await r.text()).slice(0, 500)); process.exit(1); }",
  '    console.log(JSON.stringify({ snapshotUploaded: { sha256, bytes: body.length } })); },',
  "  (e) => { console.error('upload failed: ' + e.message); process.exit(1); });",
].join('\n');

/** Pure: the snapshot task definition of `plan`'s release. */
export function snapshotTaskDefinition(template: TaskDefinition, plan: ReleasePlan, target: AwsTargetPlan) {
  const container = templateContainer(template, ONE_OFF_TEMPLATE.service);
  const databaseUrl = container.environment?.find((e) => e.name === 'TK_DATABASE_URL')?.value;
  if (!databaseUrl) throw new DeployError(`The task definition ${template.family} has no TK_DATABASE_URL`, '`pulumi up` declares it');
  const password = container.secrets?.find((s) => s.name === AWS_SECRETS['database-password']);
  const ca = container.environment?.find((e) => e.name === DATABASE_CA_ENV)?.value;
  const mount = [{ sourceVolume: 'snapshot', containerPath: '/snapshot', readOnly: false }];
  const dumpScript = [
    'set -eu',
    'umask 077',
    ...(ca ? [`printf '%s\\n' "$${DATABASE_CA_ENV}" >${DATABASE_CA_FILE}`] : []),
    `timeout --kill-after=10s ${SNAPSHOT_DUMP_TIMEOUT_S}s pg_dump --format=custom --no-password --lock-wait-timeout=${plan.snapshots.lockWaitTimeoutMs} --file=${SNAPSHOT_FILE}`,
    `chown ${APP_UID}:${APP_UID} ${SNAPSHOT_FILE}`,
    `echo "pg_dump wrote $(stat -c %s ${SNAPSHOT_FILE}) bytes"`,
  ].join('\n');
  const dump: ContainerDefinition = withoutUndefined({
    name: SNAPSHOT_CONTAINERS.dump,
    image: target.snapshotImage,
    essential: false,
    entryPoint: ['sh', '-c'],
    command: [dumpScript],
    environment: [...libpqEnvironment(databaseUrl, ca ? DATABASE_CA_FILE : undefined), ...(ca ? [{ name: DATABASE_CA_ENV, value: ca }] : [])],
    secrets: password?.valueFrom ? [{ name: 'PGPASSWORD', valueFrom: password.valueFrom }] : undefined,
    mountPoints: mount,
    logConfiguration: logsFor(container, 'snapshot'),
    cpu: container.cpu,
    memory: container.memory,
  });
  const upload: ContainerDefinition = withoutUndefined({
    name: SNAPSHOT_CONTAINERS.upload,
    image: releaseImage(container.image ?? '', plan),
    essential: true,
    dependsOn: [{ containerName: SNAPSHOT_CONTAINERS.dump, condition: 'SUCCESS' }],
    entryPoint: ['node', '-e'],
    command: [UPLOAD_SCRIPT],
    mountPoints: mount,
    logConfiguration: logsFor(container, 'snapshot'),
    cpu: container.cpu,
    memory: container.memory,
  });
  return { ...registrationFrom(template, snapshotFamily(target), [dump, upload], [{ key: RELEASE_ID_TAG, value: plan.image.releaseId }]), volumes: [{ name: 'snapshot' }] };
}

/** What the upload container printed it sent, or undefined. */
export function uploadedSnapshot(output: string): { sha256: string; bytes: number } | undefined {
  for (const line of output.split('\n').reverse()) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(trimmed) as { snapshotUploaded?: { sha256?: unknown; bytes?: unknown } };
      const sent = parsed.snapshotUploaded;
      if (typeof sent?.sha256 === 'string' && /^[0-9a-f]{64}$/.test(sent.sha256) && typeof sent.bytes === 'number') return { sha256: sent.sha256, bytes: sent.bytes };
    } catch {
      // a log line of another shape
    }
  }
  return undefined;
}
