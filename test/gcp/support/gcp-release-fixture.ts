/**
 * A GCP stack on this machine for the release backend's tests: the Cloud Run emulator (its
 * revisions and jobs run on the local Docker engine), fake-gcs-server as Cloud Storage, and a
 * fresh database in the PostgreSQL on 127.0.0.1:5432, reached the way Cloud Run reaches Cloud SQL
 * (the connector's unix socket). The services and the release's jobs are declared as GcpTarget
 * declares them: each service with its placeholder revision running and serving all the traffic
 * (as Pulumi's create leaves it), the jobs with their secret references, Cloud SQL volume and the
 * bucket for their output; the release backend gets the real Google clients.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Bucket } from '@google-cloud/storage';
import type { ReleasePlan } from '../../../components/release/plan.js';
import type { ReleaseBackend } from '../../../components/release/ports.js';
import { parseStackConfig } from '../../../providers/config.js';
import { pulumiConfig } from '../../../providers/docker/testing.js';
import { startCloudRunEmulator, type CloudRunEmulator, type WireTemplate } from '../../../providers/gcp/cloud-run-emulator.js';
import { startArtifactRegistryEmulator, type ArtifactRegistryEmulator } from '../../../providers/gcp/emulator/artifact-registry.js';
import { startFakeGcs, type FakeGcs } from '../../../providers/gcp/fake-gcs.js';
import { artifactRegistryClient } from '../../../providers/gcp/images/client.js';
import { CLOUD_SQL_MOUNT, databaseUrl, planGcpInfrastructure, type GcpInfrastructureSpec } from '../../../providers/gcp/infrastructure-spec.js';
import { JOB_OUTPUT_ENV, STATE_MOUNT, STATE_VOLUME, type GcpJobSpec } from '../../../providers/gcp/jobs/job-specs.js';
import { DEFAULT_SNAPSHOT_IMAGE, GCP_REVISION_REFS_ENV } from '../../../providers/gcp/plan-target.js';
import { gcpReleaseBackend } from '../../../providers/gcp/release-backend.js';
import { planGcpRelease } from '../../../providers/gcp/release-plan.js';
import { cloudRunClients } from '../../../providers/gcp/run/clients.js';
import { placeholderTemplate } from '../../../providers/gcp/run/placeholder-template.js';
import { cloudRunServiceName } from '../../../providers/gcp/routing/cloud-run-traffic.js';
import { APP_SERVICES } from '../../../components/release/plan.js';
import { TEST_IMAGES, ensureAppImage, requireDocker } from '../../support/images.js';

process.env.METADATA_SERVER_DETECTION = 'none';

export interface GcpReleaseFixture {
  emulator: CloudRunEmulator;
  /** Artifact Registry, holding the app image under the stack's repository with the release tag. */
  registry: ArtifactRegistryEmulator;
  gcs: FakeGcs;
  bucket: Bucket;
  spec: GcpInfrastructureSpec;
  /** A release of the app image; `variant` (the log level) and `gcp` change its config (another release id). */
  plan(variant?: string, gcp?: { instances?: { min: number; max: number } }): ReleasePlan;
  /** The release process's environment: the secrets and the revision refs `pulumi up` passes (GCP_REVISION_REFS_ENV). */
  secrets: Record<string, string>;
  /** A backend with clients of its own, as a release process has. */
  backend(): ReleaseBackend;
  /** psql against the stack's database. */
  sql(statement: string): string;
  database: string;
  tearDown(): Promise<void>;
}

function psql(database: string, statement: string): string {
  return execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-At', '-c', statement], { encoding: 'utf8' });
}

/**
 * The template GcpTarget creates a service with (the placeholder, run/placeholder-template.ts), as
 * the provider sends it to the Admin API: `commands` is the API's `command`, the one port a list.
 */
function declaredTemplate(spec: GcpInfrastructureSpec, service: (typeof APP_SERVICES)[number], image: string): WireTemplate {
  const { revision, scaling, containers } = placeholderTemplate(spec.services[service], image);
  return {
    revision,
    scaling,
    serviceAccount: `${spec.serviceAccountId}@${spec.project}.iam.gserviceaccount.com`,
    containers: containers.map(({ commands, ports, ...container }) => ({ ...container, command: commands, ports: [ports] })),
  };
}

/** A job as GcpTarget declares it (jobs/job-specs.ts), as the Admin API carries it. */
function declaredJob(spec: GcpInfrastructureSpec, job: GcpJobSpec, connectionName: string, image: string, bucket: string): Record<string, unknown> {
  return {
    taskCount: 1,
    parallelism: 1,
    template: {
      maxRetries: 0,
      timeout: { seconds: String(job.timeoutSeconds) },
      serviceAccount: `${spec.serviceAccountId}@${spec.project}.iam.gserviceaccount.com`,
      containers: [
        {
          name: job.container,
          image,
          command: job.command,
          args: job.defaultArgs,
          env: [
            { name: 'TK_LOG_LEVEL', value: 'info' },
            { name: 'TK_DATABASE_URL', value: databaseUrl(spec, { connectionName, privateIp: '' }) },
            ...spec.secrets.filter((s) => job.secretEnv.includes(s.env)).map((s) => ({ name: s.env, valueSource: { secretKeyRef: { secret: s.secretId, version: '1' } } })),
            { name: JOB_OUTPUT_ENV, value: `${STATE_MOUNT}/jobs/${job.name}-by-hand` },
          ],
          volumeMounts: [{ name: 'cloudsql', mountPath: CLOUD_SQL_MOUNT }, { name: STATE_VOLUME, mountPath: STATE_MOUNT }],
        },
      ],
      volumes: [{ name: 'cloudsql', cloudSqlInstance: { instances: [connectionName] } }, { name: STATE_VOLUME, gcs: { bucket, readOnly: false } }],
    },
  };
}

export async function createGcpReleaseFixture(): Promise<GcpReleaseFixture> {
  await requireDocker();
  const image = ensureAppImage();
  const suffix = randomBytes(3).toString('hex');
  const stack = `c${suffix}`;
  const database = `tk_gcp_${suffix}`;
  const hmac = `${randomBytes(16).toString('hex')}:${randomBytes(32).toString('base64')}`;
  const config = (variant: string, gcp: Record<string, unknown> = {}) => {
    const parsed = parseStackConfig({
      stack,
      config: pulumiConfig({ provider: 'gcp', gcp: { project: 'tk-test-project', projectNumber: '123456789012', region: 'europe-west1', artifactRepository: `tk-test-${suffix}`, ...gcp }, database: { name: database, user: 'trapperkeeper' }, app: { logLevel: variant } }),
      processEnv: { TK_POSTGRES_PASSWORD: 'unused-with-trust', TK_HMAC_SECRET: hmac },
      envFile: { path: `.env.${stack}`, values: {} },
    });
    if (parsed.provider !== 'gcp') throw new Error('not a gcp config');
    return parsed;
  };
  const spec = planGcpInfrastructure(config('info'));
  const connectionName = `${spec.project}:${spec.region}:${spec.database.instance}`;

  psql('postgres', `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'trapperkeeper') THEN CREATE ROLE trapperkeeper LOGIN; END IF; END $$`);
  psql('postgres', `CREATE DATABASE ${database} OWNER trapperkeeper`);

  const gcs = await startFakeGcs();
  const cleanups: Array<() => Promise<unknown>> = [() => gcs.stop(), async () => psql('postgres', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)];
  try {
    // What `pulumi up` does before a release: the image built, tagged with its Artifact Registry
    // ref (so the emulated revisions run it from the local engine) and pushed.
    const release = { tag: '0.1.0-0123abcd-20261202T100000Z', version: '0.1.0', commit: '0123abcd' };
    const ref = `${spec.imageRepository}:${release.tag}`;
    execFileSync('docker', ['tag', image, ref]);
    cleanups.push(async () => execFileSync('docker', ['rmi', ref], { stdio: 'ignore' }));
    const registry = await startArtifactRegistryEmulator();
    cleanups.unshift(() => registry.stop());
    registry.push(ref);
    // The name the program gives the stack's bucket, so the stack found from its file (tkctl, status) is this one.
    const bucket = await gcs.newBucket(spec.stateBucket.name);
    const secrets = { TK_DATABASE_PASSWORD: 'unused-with-trust', TK_HMAC_SECRET: hmac };
    const emulator = await startCloudRunEmulator({
      runtime: { secrets: Object.fromEntries(spec.secrets.map((s) => [s.secretId, s.env === 'TK_HMAC_SECRET' ? hmac : secrets.TK_DATABASE_PASSWORD])), storageEndpoint: gcs.apiEndpoint },
    });
    cleanups.unshift(() => emulator.stop());
    const fronts: Record<string, string> = {};
    for (const service of APP_SERVICES) {
      const added = await emulator.addService(cloudRunServiceName(spec.project, spec.region, spec.services[service].name), declaredTemplate(spec, service, ref));
      fronts[service] = added.uri;
    }
    // pulumi up declares the jobs with the image it releases and pg_dump's default image; the
    // plans here name the offline postgres image, so the release points the pg-dump job at it.
    for (const job of Object.values(spec.jobs)) {
      emulator.addJob(`projects/${spec.project}/locations/${spec.region}/jobs/${job.name}`, declaredJob(spec, job, connectionName, job.kind === 'migrate' ? ref : DEFAULT_SNAPSHOT_IMAGE, bucket.name));
    }
    const clients: Array<{ close(): Promise<unknown> }> = [];
    cleanups.unshift(async () => Promise.all(clients.map((c) => c.close())));
    const plan = (variant = 'info', gcp: { instances?: { min: number; max: number } } = {}): ReleasePlan => {
      const configured = config(variant, gcp);
      const base = planGcpRelease(configured, planGcpInfrastructure(configured), release);
      // Users reach the services' URLs on 127.0.0.1.
      return {
        ...base,
        endpoints: { publicHttpUrl: fronts['web-ui']!, publicGrpcAddress: new URL(fronts['sensor-api']!).host },
        target: { ...base.target, stateBucket: bucket.name, snapshotImage: TEST_IMAGES.postgres },
      };
    };
    return {
      emulator,
      registry,
      gcs,
      bucket,
      spec,
      plan,
      secrets: {
        ...secrets,
        // What GcpTarget passes: the database URL and the secrets' versions the revisions pin.
        [GCP_REVISION_REFS_ENV]: JSON.stringify({ databaseUrl: databaseUrl(spec, { connectionName, privateIp: '' }), secretVersions: Object.fromEntries(spec.secrets.map((s) => [s.env, '1'])) }),
      },
      database,
      sql: (statement) => psql(database, statement),
      backend() {
        const own = cloudRunClients({ host: emulator.host, port: emulator.port });
        const artifactRegistry = artifactRegistryClient({ host: registry.host, port: registry.port });
        clients.push(own, artifactRegistry);
        return gcpReleaseBackend(plan(), { clients: own, bucket, artifactRegistry, progress: (line) => process.stderr.write(`# ${line}\n`) });
      },
      async tearDown() {
        for (const cleanup of cleanups) await cleanup().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    throw error;
  }
}
