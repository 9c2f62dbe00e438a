import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { before, beforeEach, describe, it } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { parseReleasePlan } from '../../components/release/plan.js';
import type { GcpStackConfig } from '../config.js';
import { parseStackConfig } from '../config.js';
import { CANARY, CANARY_ENV, MOCK_RELEASE_SUMMARY, byName, byType, installPulumiMocks, isWrappedSecret, plainOccurrences, promiseOf, pulumiConfig, recorded, registered, resetRecorded, unwrapSecrets } from '../docker/testing.js';
import { NAME_LIMITS } from './infrastructure-spec.js';
import { PLACEHOLDER_SERVER } from './run/placeholder-template.js';
import { gcpTargetOf } from './plan-target.js';
import { GcpTarget } from './target.js';

const IMAGE = { tag: '0.1.0-0123abcd-20261123T101500Z', version: '0.1.0', commit: '0123abcd'.padEnd(40, 'e') };
const GCP = { project: 'tk-prod-123456', projectNumber: '123456789012', region: 'europe-west1' };

type Inputs = Record<string, unknown>;

const GCP_DEMO_GOLDEN = fileURLToPath(new URL('./fixtures/gcp-demo-graph.golden.txt', import.meta.url));

/** The inputs worth reviewing per resource type (secret inputs never: they are only marked). */
const KEY_INPUTS: Record<string, string[]> = {
  'gcp:sql/databaseInstance:DatabaseInstance': ['databaseVersion', 'deletionProtection', 'settings.tier', 'settings.availabilityType', 'settings.deletionProtectionEnabled', 'settings.backupConfiguration.enabled', 'settings.ipConfiguration.sslMode'],
  'gcp:storage/bucket:Bucket': ['forceDestroy', 'publicAccessPrevention', 'uniformBucketLevelAccess'],
  'gcp:cloudrunv2/service:Service': ['ingress', 'template.revision', 'template.containers.0.image', 'template.containers.0.commands', 'template.containers.0.ports.name', 'template.scaling.minInstanceCount', 'template.scaling.maxInstanceCount'],
  'gcp:cloudrunv2/job:Job': ['template.template.containers.0.image', 'template.template.maxRetries', 'template.template.timeout'],
  'gcp:cloudrunv2/serviceIamMember:ServiceIamMember': ['role', 'member'],
  'gcp:projects/iAMMember:IAMMember': ['role'],
  'gcp:secretmanager/secretIamMember:SecretIamMember': ['role'],
  'gcp:storage/bucketIAMMember:BucketIAMMember': ['role'],
  'gcp:artifactregistry/repository:Repository': ['format'],
};

function graphLine(r: (typeof recorded)[number]): string {
  const at = (path: string) => path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], r.inputs);
  const physical = ['name', 'repositoryId', 'accountId', 'secretId', 'imageName'].map((key) => r.inputs[key]).find((value) => typeof value === 'string') ?? '';
  const keys = (KEY_INPUTS[r.type] ?? []).map((path) => `${path}=${JSON.stringify(at(path))}`);
  const options = [...(r.retainOnDelete ? ['retainOnDelete'] : []), ...(r.ignoreChanges.length ? [`ignoreChanges=${r.ignoreChanges.join(',')}`] : [])];
  const parent = r.parent === '' ? '(root)' : (r.parent.split('::').pop() ?? r.parent);
  return `${r.type} ${r.name} <- ${parent}${physical ? ` [${physical}]` : ''}${keys.length ? ` ${keys.join(' ')}` : ''}${options.length ? ` (${options.join('; ')})` : ''}`;
}


function gcpConfig(stack: string, values: Record<string, unknown> = {}): GcpStackConfig {
  const { gcp, ...rest } = values as { gcp?: Record<string, unknown> };
  const config = parseStackConfig({ stack, config: pulumiConfig({ provider: 'gcp', gcp: { ...GCP, ...gcp }, ...rest }), processEnv: CANARY_ENV, envFile: { path: `.env.${stack}`, values: {} } });
  assert.ok(config.provider === 'gcp');
  return config;
}

/** Outputs Google's provider would add. */
function gcpOutputs(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
  const inputs = args.inputs as Inputs;
  switch (args.type) {
    case 'gcp:sql/databaseInstance:DatabaseInstance':
      return { connectionName: `${GCP.project}:${GCP.region}:${String(inputs.name)}`, privateIpAddress: '10.20.0.3' };
    case 'gcp:serviceaccount/account:Account': {
      const email = `${String(inputs.accountId)}@${GCP.project}.iam.gserviceaccount.com`;
      return { email, member: `serviceAccount:${email}` };
    }
    case 'gcp:secretmanager/secretVersion:SecretVersion':
      return { version: '1' };
    case 'command:local:Command':
      return { stdout: `${JSON.stringify(MOCK_RELEASE_SUMMARY)}\n`, stderr: '' };
    default:
      return {};
  }
}

async function declare(name: string, config: GcpStackConfig): Promise<GcpTarget> {
  const target = new GcpTarget(name, { config, imageTag: IMAGE });
  await registered([
    target,
    target.gcpProvider,
    target.repository,
    target.appImage,
    target.serviceAccount,
    ...target.projectRoles,
    ...Object.values(target.secrets).flatMap((s) => [s.secret, s.version, s.accessor]),
    target.database.instance,
    target.database.database,
    target.database.user,
    target.stateBucket,
    ...Object.values(target.services).flatMap((s) => [s.service, s.publicInvoker]),
    ...Object.values(target.jobs),
    target.release,
    target.cleanup,
  ]);
  return target;
}

interface Container {
  image: string;
  commands?: string[];
  args: string[];
  ports: { name: string; containerPort: number };
  envs: Array<{ name: string; value?: unknown; valueSource?: { secretKeyRef: { secret: string; version: string } } }>;
  startupProbe: Inputs;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

function containerOf(name: string): Container {
  const template = byName(name).inputs.template as { containers: Container[] };
  assert.equal(template.containers.length, 1);
  return template.containers[0]!;
}

describe('GcpTarget (Pulumi mocks)', () => {
  before(async () => {
    await installPulumiMocks('prod');
    // The recording of registrations stays; the outputs become Google's.
    await pulumi.runtime.setMocks(
      { newResource: (args) => ({ id: `${args.name}-id`, state: { ...args.inputs, ...gcpOutputs(args) } }), call: (args) => args.inputs },
      'trapperkeeper-deploy',
      'prod',
      false,
    );
  });
  beforeEach(() => {
    resetRecorded();
  });

  it('declares the whole graph under the component, every Google resource on the stack\'s provider for its project and region', async () => {
    await declare('tk', gcpConfig('prod'));
    const graph = recorded.map((r) => `${r.type} ${r.name}`).sort();
    assert.deepEqual(graph, [
      'command:local:Command tk-cleanup',
      'command:local:Command tk-release',
      'docker:index/image:Image tk-app-image',
      'gcp:artifactregistry/repository:Repository tk-images',
      'gcp:cloudrunv2/job:Job tk-job-migrate',
      'gcp:cloudrunv2/job:Job tk-job-pg-dump',
      'gcp:cloudrunv2/service:Service tk-sensor-api',
      'gcp:cloudrunv2/service:Service tk-web-ui',
      'gcp:cloudrunv2/serviceIamMember:ServiceIamMember tk-sensor-api-public',
      'gcp:cloudrunv2/serviceIamMember:ServiceIamMember tk-web-ui-public',
      'gcp:projects/iAMMember:IAMMember tk-run-cloudsql.client',
      'gcp:secretmanager/secret:Secret tk-secret-databasePassword',
      'gcp:secretmanager/secret:Secret tk-secret-hmac',
      'gcp:secretmanager/secretIamMember:SecretIamMember tk-secret-databasePassword-accessor',
      'gcp:secretmanager/secretIamMember:SecretIamMember tk-secret-hmac-accessor',
      'gcp:secretmanager/secretVersion:SecretVersion tk-secret-databasePassword',
      'gcp:secretmanager/secretVersion:SecretVersion tk-secret-hmac',
      'gcp:serviceaccount/account:Account tk-run',
      'gcp:sql/database:Database tk-database',
      'gcp:sql/databaseInstance:DatabaseInstance tk-postgres',
      'gcp:sql/user:User tk-db-user',
      'gcp:storage/bucket:Bucket tk-release-state',
      'gcp:storage/bucketIAMMember:BucketIAMMember tk-release-state-jobs',
      'pulumi:providers:gcp tk-gcp',
      'trapperkeeper:gcp:Target tk',
    ]);
    const provider = byName('tk-gcp');
    assert.deepEqual([provider.inputs.project, provider.inputs.region], [GCP.project, GCP.region]);
    for (const resource of recorded.filter((r) => r.type.startsWith('gcp:'))) {
      assert.ok(resource.parent.endsWith('::tk'), `${resource.name} is a child of the component`);
      assert.ok(resource.provider.startsWith(`${provider.urn}::`), `${resource.name} uses the stack's provider`);
    }
  });

  it('never puts a secret value anywhere but a secret input; the jobs read them through secretKeyRef, the services\' placeholders not at all', async () => {
    const target = await declare('tk-sec', gcpConfig('prod'));
    for (const resource of recorded) {
      for (const canary of [CANARY.postgresPassword, CANARY.hmacSecret]) {
        assert.deepEqual(plainOccurrences(resource.inputs, canary), [], `${resource.name} holds a secret in plain text`);
      }
    }
    const versions = Object.fromEntries(byType('gcp:secretmanager/secretVersion:SecretVersion').map((r) => [r.name, r.inputs.secretData]));
    assert.ok(isWrappedSecret(versions['tk-sec-secret-hmac']) && isWrappedSecret(versions['tk-sec-secret-databasePassword']));
    assert.equal(unwrapSecrets(versions['tk-sec-secret-hmac']), CANARY.hmacSecret);
    assert.equal(unwrapSecrets(versions['tk-sec-secret-databasePassword']), CANARY.postgresPassword);
    assert.equal(unwrapSecrets(byName('tk-sec-db-user').inputs.password), CANARY.postgresPassword);
    assert.ok(isWrappedSecret(byName('tk-sec-db-user').inputs.password));

    // The release's revisions read them through secretKeyRef at pinned versions (run/revision-template.test.ts).
    for (const service of ['tk-sec-sensor-api', 'tk-sec-web-ui']) assert.equal(containerOf(service).envs, undefined, `${service} is created without any variable`);
    assert.equal(target.releasePlan.secretEnv.includes('TK_DATABASE_PASSWORD'), true);
  });

  it('creates each service with a placeholder revision that starts without the database and answers 503: the release image\'s Node, its port (h2c for sensor-api), a TCP probe, no variable, no volume, one instance at most', async () => {
    const target = await declare('tk-ph', gcpConfig('prod'));
    for (const [service, port] of [['sensor-api', { name: 'h2c', containerPort: 50051 }], ['web-ui', { name: 'http1', containerPort: 8080 }]] as const) {
      const template = byName(`tk-ph-${service}`).inputs.template as Inputs;
      assert.equal(template.revision, `tk-prod-${service}-placeholder`, 'operators see it for what it is');
      assert.deepEqual(template.scaling, { minInstanceCount: 0, maxInstanceCount: 1 });
      assert.deepEqual([template.volumes, template.vpcAccess, template.timeout], [undefined, undefined, undefined], 'no Cloud SQL volume, no VPC egress');
      assert.equal(template.serviceAccount, 'tk-prod-run@tk-prod-123456.iam.gserviceaccount.com');
      const container = containerOf(`tk-ph-${service}`);
      assert.equal(container.image, target.releasePlan.image.ref, 'the release image, already pushed');
      assert.deepEqual(container.commands, ['node']);
      assert.deepEqual(container.args, ['-e', PLACEHOLDER_SERVER, port.name, `tk-prod-${service}`], 'the placeholder server, not the app');
      assert.deepEqual(container.ports, port);
      assert.deepEqual(container.startupProbe, { tcpSocket: { port: port.containerPort }, periodSeconds: 2, failureThreshold: 30 });
      assert.equal(container.envs, undefined, 'no TK_DATABASE_URL, no secret, no app setting');
      assert.equal(container.volumeMounts, undefined);
    }
  });

  it('keeps the database safe by default: deletion protection in Pulumi and Cloud SQL, backups with point-in-time recovery, kept on destroy', async () => {
    await declare('tk-safe', gcpConfig('prod'));
    const instance = byName('tk-safe-postgres');
    const settings = instance.inputs.settings as Inputs;
    assert.equal(instance.inputs.deletionProtection, true);
    assert.equal(settings.deletionProtectionEnabled, true);
    assert.deepEqual(settings.backupConfiguration, { enabled: true, pointInTimeRecoveryEnabled: true, startTime: '03:00', backupRetentionSettings: { retainedBackups: 7 } });
    assert.equal(settings.availabilityType, 'ZONAL');
    assert.equal(settings.tier, 'db-custom-1-3840');
    assert.equal(instance.inputs.databaseVersion, 'POSTGRES_16');
    for (const kept of ['tk-safe-postgres', 'tk-safe-database', 'tk-safe-db-user', 'tk-safe-release-state']) assert.equal(byName(kept).retainOnDelete, true, `${kept} outlives pulumi destroy`);
  });

  it('turns protection off, HA on, and lets destroy delete the data only when the config says so', async () => {
    await declare('tk-eph', gcpConfig('dev', { ephemeral: true, gcp: { database: { deletionProtection: false, highAvailability: true, backups: false } } }));
    const instance = byName('tk-eph-postgres');
    const settings = instance.inputs.settings as Inputs;
    assert.deepEqual([instance.inputs.deletionProtection, settings.deletionProtectionEnabled, settings.availabilityType], [false, false, 'REGIONAL']);
    assert.deepEqual(settings.backupConfiguration, { enabled: false, pointInTimeRecoveryEnabled: false });
    for (const gone of ['tk-eph-postgres', 'tk-eph-database', 'tk-eph-db-user', 'tk-eph-release-state']) assert.equal(byName(gone).retainOnDelete, false, `${gone} goes with pulumi destroy (after the final snapshot)`);
    assert.equal(byName('tk-eph-release-state').inputs.forceDestroy, true);
    // pulumi destroy deletes dependents first: the cleanup (the final snapshot) runs while the data is there.
    const cleanupDeps = byName('tk-eph-cleanup').dependencies.map((urn) => urn.split('::').pop());
    for (const data of ['tk-eph-database', 'tk-eph-db-user', 'tk-eph-release-state', 'tk-eph-release-state-jobs']) assert.ok(cleanupDeps.includes(data), `the cleanup runs before ${data} is deleted`);
    assert.match(String(byName('tk-eph-cleanup').inputs.delete), /^node launcher\/release-cli\.mjs destroy$/);
  });

  it('connector: the release\'s revisions connect through the instance\'s Cloud SQL socket (the URL pulumi up hands the release); no authorized network, TLS only', async () => {
    await declare('tk-conn', gcpConfig('prod'));
    const refs = JSON.parse(String((byName('tk-conn-release').inputs.environment as Inputs).TK_GCP_REVISION_REFS)) as { databaseUrl: string };
    assert.equal(refs.databaseUrl, 'postgresql://trapperkeeper@localhost/trapperkeeper?host=%2Fcloudsql%2Ftk-prod-123456%3Aeurope-west1%3Atk-prod-postgres');
    assert.equal(new URL(refs.databaseUrl).password, '', 'the password is not in the URL');
    assert.deepEqual((byName('tk-conn-postgres').inputs.settings as Inputs).ipConfiguration, { ipv4Enabled: true, authorizedNetworks: [], sslMode: 'ENCRYPTED_ONLY' });
  });

  it('privateIp: no public address on the instance, which sits in the VPC the release\'s revisions reach by Direct VPC egress', async () => {
    await declare('tk-vpc', gcpConfig('prod', { gcp: { connection: 'privateIp', network: 'tk-vpc' } }));
    assert.deepEqual((byName('tk-vpc-postgres').inputs.settings as Inputs).ipConfiguration, {
      ipv4Enabled: false,
      privateNetwork: 'projects/tk-prod-123456/global/networks/tk-vpc',
      sslMode: 'ENCRYPTED_ONLY',
    });
    const refs = JSON.parse(String((byName('tk-vpc-release').inputs.environment as Inputs).TK_GCP_REVISION_REFS)) as { databaseUrl: string };
    assert.equal(refs.databaseUrl, 'postgresql://trapperkeeper@10.20.0.3:5432/trapperkeeper?sslmode=no-verify');
  });

  it('least privilege: the services\' account is a Cloud SQL client and reads its two secrets, nothing more; only the two services are public', async () => {
    await declare('tk-iam', gcpConfig('prod'));
    const member = 'serviceAccount:tk-prod-run@tk-prod-123456.iam.gserviceaccount.com';
    assert.deepEqual(byType('gcp:projects/iAMMember:IAMMember').map((r) => [r.inputs.role, r.inputs.member]), [['roles/cloudsql.client', member]]);
    assert.deepEqual(
      byType('gcp:secretmanager/secretIamMember:SecretIamMember').map((r) => [r.inputs.secretId, r.inputs.role, r.inputs.member]),
      [
        ['tk-iam-secret-hmac-id', 'roles/secretmanager.secretAccessor', member],
        ['tk-iam-secret-databasePassword-id', 'roles/secretmanager.secretAccessor', member],
      ],
    );
    const everyone = recorded.filter((r) => JSON.stringify(r.inputs).includes('allUsers'));
    assert.deepEqual(everyone.map((r) => [r.name, r.inputs.role]), [
      ['tk-iam-sensor-api-public', 'roles/run.invoker'],
      ['tk-iam-web-ui-public', 'roles/run.invoker'],
    ]);
    const bucket = byName('tk-iam-release-state').inputs;
    assert.deepEqual([bucket.publicAccessPrevention, bucket.uniformBucketLevelAccess], ['enforced', true]);
    for (const service of ['tk-iam-sensor-api', 'tk-iam-web-ui']) {
      assert.equal((byName(service).inputs.template as Inputs).serviceAccount, 'tk-prod-run@tk-prod-123456.iam.gserviceaccount.com');
    }
    // The release's revisions start only once they may read their secrets and reach the database;
    // the services' placeholders need neither.
    const accessNeeded = ['tk-iam-run-cloudsql.client', 'tk-iam-secret-databasePassword-accessor', 'tk-iam-secret-hmac-accessor'];
    const needs = (name: string) => byName(name).dependencies.map((urn) => urn.split('::').pop()).filter((d) => d?.includes('accessor') || d?.includes('cloudsql')).sort();
    assert.deepEqual(needs('tk-iam-release'), accessNeeded);
    for (const service of ['tk-iam-sensor-api', 'tk-iam-web-ui']) assert.deepEqual(needs(service), []);
  });

  it('builds the app image and pushes it to the stack\'s Artifact Registry repository under the release tag, with an access token kept secret, before any service or release needs it', async () => {
    const target = await declare('tk-img', gcpConfig('prod'));
    const image = byName('tk-img-app-image');
    const ref = `${GCP.region}-docker.pkg.dev/${GCP.project}/trapperkeeper/trapperkeeper:${IMAGE.tag}`;
    assert.equal(image.inputs.imageName, ref);
    assert.equal(await promiseOf(target.image.ref), ref, 'the target exports the pushed ref');
    assert.equal(target.releasePlan.image.ref, ref, 'the release runs what was pushed');
    const build = image.inputs.build as Inputs;
    assert.deepEqual([build.dockerfile, build.platform, (build.args as Inputs).VERSION, (build.args as Inputs).REVISION], ['app/Dockerfile', 'linux/amd64', IMAGE.version, IMAGE.commit]);
    assert.equal(image.inputs.buildOnPreview, false);
    const registry = image.inputs.registry as Inputs;
    assert.deepEqual([registry.server, registry.username], [`${GCP.region}-docker.pkg.dev`, 'oauth2accesstoken']);
    assert.ok(isWrappedSecret(registry.password), 'the access token is a secret');
    assert.ok(image.dependencies.some((urn) => urn.endsWith('::tk-img-images')), 'pushed after the repository exists');
    for (const dependent of ['tk-img-sensor-api', 'tk-img-web-ui', 'tk-img-release']) {
      assert.ok(byName(dependent).dependencies.some((urn) => urn.endsWith('::tk-img-app-image')), `${dependent} waits for the pushed image`);
    }
  });

  it('the release owns template, revisions and traffic: Pulumi creates each service once and never sends either again (a maskless update would start an ungated revision)', async () => {
    const target = await declare('tk-own', gcpConfig('prod'));
    for (const service of ['tk-own-sensor-api', 'tk-own-web-ui']) {
      assert.equal(byName(service).inputs.traffics, undefined);
      assert.deepEqual(byName(service).ignoreChanges, ['template', 'traffics', 'client', 'clientVersion']);
      // A change to any other field would be an update too, resending the creation-time template
      // (ignored paths keep their old inputs) without an update mask: only constants besides the
      // name and location (whose change replaces the service).
      assert.deepEqual(Object.keys(byName(service).inputs).sort(), ['deletionProtection', 'ingress', 'location', 'name', 'template']);
      assert.deepEqual([byName(service).inputs.ingress, byName(service).inputs.deletionProtection], ['INGRESS_TRAFFIC_ALL', false]);
    }
    assert.deepEqual(byName('tk-own-postgres').ignoreChanges, []);
    // What the release builds the revisions from instead: the plan, and the refs only pulumi up knows.
    const release = byName('tk-own-release');
    const environment = release.inputs.environment as Inputs;
    const refs = JSON.parse(String(environment.TK_GCP_REVISION_REFS)) as unknown;
    assert.deepEqual(refs, {
      databaseUrl: 'postgresql://trapperkeeper@localhost/trapperkeeper?host=%2Fcloudsql%2Ftk-prod-123456%3Aeurope-west1%3Atk-prod-postgres',
      secretVersions: { TK_DATABASE_PASSWORD: '1', TK_HMAC_SECRET: '1' },
    });
    assert.deepEqual(release.inputs.triggers, [target.releasePlan.image.releaseId, environment.TK_GCP_REVISION_REFS], 'a new secret version or database address is a new release');
    const other = await declare('tk-own2', gcpConfig('prod', { gcp: { instances: { min: 2, max: 7 } } }));
    assert.deepEqual(gcpTargetOf(other.releasePlan).revision.instances, { min: 2, max: 7 }, 'scaling travels in the plan');
    assert.notEqual(other.releasePlan.image.releaseId, target.releasePlan.image.releaseId, 'so a scaling change is a new release');
  });

  it('the bucket deletes superseded snapshots retentionDays after the release marked them (never the newest verified one, which has no custom time) and job outputs after a day, nothing else', async () => {
    await declare('tk-life', gcpConfig('prod', { snapshots: { retentionDays: 7 } }));
    const bucket = byName('tk-life-release-state').inputs;
    assert.deepEqual(bucket.lifecycleRules, [
      { action: { type: 'Delete' }, condition: { daysSinceCustomTime: 7, matchesPrefixes: ['snapshots/'] } },
      { action: { type: 'Delete' }, condition: { age: 1, matchesPrefixes: ['jobs/'] } },
    ]);
    assert.deepEqual(bucket.versioning, { enabled: false });
    assert.equal(bucket.name, 'tk-prod-release-tk-prod-123456');
  });

  it('names every resource within Google\'s limits, even for the longest stack name the config accepts', async () => {
    const stack = 'a'.repeat(23);
    await declare('tk-long', gcpConfig(stack));
    assert.ok(String(byName('tk-long-run').inputs.accountId).length <= NAME_LIMITS.serviceAccountId);
    for (const service of byType('gcp:cloudrunv2/service:Service')) assert.ok(String(service.inputs.name).length <= NAME_LIMITS.cloudRunService, String(service.inputs.name));
    for (const job of byType('gcp:cloudrunv2/job:Job')) assert.ok(String(job.inputs.name).length <= NAME_LIMITS.cloudRunJob, String(job.inputs.name));
    assert.ok(String(byName('tk-long-release-state').inputs.name).length <= NAME_LIMITS.bucket);
    assert.ok(String(byName('tk-long-postgres').inputs.name).length <= NAME_LIMITS.cloudSqlInstance);
  });

  it('hands the release a valid plan for the gcp target, with the run.app endpoints users reach, and exports them', async () => {
    const target = await declare('tk-plan', gcpConfig('prod'));
    const environment = byName('tk-plan-release').inputs.environment as Inputs;
    const plan = parseReleasePlan(environment.TK_RELEASE_PLAN, { source: 'TK_RELEASE_PLAN', fix: 'pulumi up' });
    assert.deepEqual(gcpTargetOf(plan), {
      kind: 'gcp',
      project: 'tk-prod-123456',
      region: 'europe-west1',
      stateBucket: 'tk-prod-release-tk-prod-123456',
      services: { 'sensor-api': 'tk-prod-sensor-api', 'web-ui': 'tk-prod-web-ui' },
      databaseInstance: 'tk-prod-postgres',
      // Not in the plan: the parsed target's default (pg_dump of the declared Cloud SQL version).
      snapshotImage: 'postgres:16-bookworm',
      revision: {
        serviceAccount: 'tk-prod-run@tk-prod-123456.iam.gserviceaccount.com',
        instances: { min: 1, max: 10 },
        database: { connection: 'connector', instance: 'tk-prod-123456:europe-west1:tk-prod-postgres' },
        secrets: [
          { env: 'TK_HMAC_SECRET', secretId: 'tk-prod-hmac-secret' },
          { env: 'TK_DATABASE_PASSWORD', secretId: 'tk-prod-database-password' },
        ],
        services: {
          'sensor-api': { args: ['sensor-api'], containerPort: 50051, portName: 'h2c', startupProbe: { kind: 'grpc', port: 50051 }, timeoutSeconds: 3600 },
          'web-ui': { args: ['web-ui'], containerPort: 8080, portName: 'http1', startupProbe: { kind: 'http', path: '/readyz', port: 8080 }, timeoutSeconds: 300 },
        },
      },
    });
    assert.match(plan.image.releaseId, /^0\.1\.0-0123abcd-20261123T101500Z\+cfg\.[0-9a-f]{8}$/);
    assert.deepEqual(plan.endpoints, { publicHttpUrl: 'https://tk-prod-web-ui-123456789012.europe-west1.run.app', publicGrpcAddress: 'tk-prod-sensor-api-123456789012.europe-west1.run.app:443' });
    assert.equal(await promiseOf(target.endpoints.publicHttpUrl), plan.endpoints.publicHttpUrl);
    assert.equal(await promiseOf(target.status.liveRelease), MOCK_RELEASE_SUMMARY.liveRelease);
    const other = await declare('tk-plan2', gcpConfig('prod', { app: { logLevel: 'debug' } }));
    assert.notEqual(other.releasePlan.image.releaseId, plan.image.releaseId, 'a config-only change is a new release');
  });

  it('declares the release\'s two Cloud Run jobs as the release runs them: the services\' account, database and secrets, the bucket for their output, one task, no retries', async () => {
    const target = await declare('tk-jobs', gcpConfig('prod'));
    const jobs = Object.fromEntries(byType('gcp:cloudrunv2/job:Job').map((r) => [r.name, r]));
    assert.deepEqual(Object.keys(jobs).sort(), ['tk-jobs-job-migrate', 'tk-jobs-job-pg-dump']);
    const opened = (name: string) => {
      const job = jobs[name]!;
      const template = job.inputs.template as { taskCount: number; parallelism: number; template: Inputs & { containers: Array<Container & { name: string; commands: string[] }>; volumes: Inputs[] } };
      return { job, outer: template, task: template.template, container: template.template.containers[0]! };
    };
    const migrate = opened('tk-jobs-job-migrate');
    const dump = opened('tk-jobs-job-pg-dump');
    assert.deepEqual([migrate.job.inputs.name, dump.job.inputs.name], ['tk-prod-migrate', 'tk-prod-pg-dump']);
    assert.equal(migrate.container.image, target.releasePlan.image.ref, 'pulumi up points migrate at the image it releases');
    assert.equal(dump.container.image, 'postgres:16-bookworm', 'pg_dump of the declared Cloud SQL version');
    for (const { job, outer, task, container } of [migrate, dump]) {
      assert.deepEqual([outer.taskCount, outer.parallelism, task.maxRetries, job.inputs.location, job.inputs.deletionProtection], [1, 1, 0, 'europe-west1', false]);
      assert.equal(task.serviceAccount, 'tk-prod-run@tk-prod-123456.iam.gserviceaccount.com');
      assert.deepEqual(task.volumes, [
        { name: 'cloudsql', cloudSqlInstance: { instances: ['tk-prod-123456:europe-west1:tk-prod-postgres'] } },
        { name: 'release-state', gcs: { bucket: 'tk-prod-release-tk-prod-123456', readOnly: false } },
      ]);
      assert.deepEqual(container.volumeMounts, [{ name: 'cloudsql', mountPath: '/cloudsql' }, { name: 'release-state', mountPath: '/release-state' }]);
      assert.equal(container.envs.find((env) => env.name === 'TK_DATABASE_URL')?.value, 'postgresql://trapperkeeper@localhost/trapperkeeper?host=%2Fcloudsql%2Ftk-prod-123456%3Aeurope-west1%3Atk-prod-postgres');
      assert.deepEqual(container.commands.slice(0, 2), ['sh', '-c'], 'a fixed wrapper: an execution may override args and env, never the command');
      // The image is not ignored: pulumi up sets it back to this commit's, never leaving one pruning deleted.
      assert.deepEqual(job.ignoreChanges, []);
      assert.ok(job.dependencies.some((urn) => urn.endsWith('::tk-jobs-release-state-jobs')), `${job.name} runs once it may write to the bucket`);
      assert.ok(job.dependencies.some((urn) => urn.endsWith('::tk-jobs-app-image')), `${job.name} waits for the pushed image`);
      for (const command of ['tk-jobs-release', 'tk-jobs-cleanup']) assert.ok(byName(command).dependencies.includes(job.urn), `${command} runs while ${job.name} exists`);
    }
    const secretsOf = (container: Container) => container.envs.filter((env) => env.valueSource).map((env) => env.name);
    assert.deepEqual(secretsOf(migrate.container), ['TK_HMAC_SECRET', 'TK_DATABASE_PASSWORD']);
    assert.deepEqual(secretsOf(dump.container), ['TK_DATABASE_PASSWORD'], 'pg_dump gets the database password only');
    assert.deepEqual(migrate.container.args, ['migrate', '--status'], 'run by hand, migrate only reports');
  });

  it('privateIp: the jobs reach the database the way the services do, through the VPC', async () => {
    await declare('tk-jobvpc', gcpConfig('prod', { gcp: { connection: 'privateIp', network: 'tk-vpc' } }));
    for (const job of byType('gcp:cloudrunv2/job:Job')) {
      const task = (job.inputs.template as { template: Inputs }).template;
      assert.deepEqual(task.vpcAccess, { networkInterfaces: [{ network: 'tk-vpc' }], egress: 'PRIVATE_RANGES_ONLY' });
      assert.deepEqual(task.volumes, [{ name: 'release-state', gcs: { bucket: 'tk-prod-release-tk-prod-123456', readOnly: false } }]);
    }
  });

  it('declares the reviewed resource graph of the gcp-demo example stack (Pulumi.gcp-demo.yaml): types, names, parents, physical names and key inputs', async () => {
    const file = parseYaml(readFileSync(fileURLToPath(new URL('../../Pulumi.gcp-demo.yaml', import.meta.url)), 'utf8')) as { config: Record<string, unknown> };
    const flat = Object.fromEntries(Object.entries(file.config).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]));
    const config = parseStackConfig({ stack: 'gcp-demo', config: flat, processEnv: CANARY_ENV, envFile: { path: '.env.gcp-demo', values: {} } });
    assert.ok(config.provider === 'gcp');
    await declare('tk', config);
    const graph = recorded.map((r) => graphLine(r)).sort();
    const text = `${graph.join('\n')}\n`;
    if (process.env.TK_UPDATE_GOLDEN === '1') writeFileSync(GCP_DEMO_GOLDEN, text);
    assert.equal(text, readFileSync(GCP_DEMO_GOLDEN, 'utf8'), 'the graph changed: review it, then TK_UPDATE_GOLDEN=1 to accept');
  });
});
