import { RELEASE_PLAN_SCHEMA_VERSION } from '../../components/release/plan.js';
import { dockerSpecOf, parseDockerReleasePlan } from './release-plan.js';
import assert from 'node:assert/strict';
import { before, beforeEach, describe, it } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import type { DockerStackConfig } from '../config.js';
import { planImageTag } from './image-tag.js';
import { canonicalJson, secretsDigest } from '../release-command.js';
import { specHash } from './release-spec.js';
import { DockerTarget } from './target.js';
import {
  CANARY,
  CLEAN_GIT,
  MOCK_RELEASE_SUMMARY,
  byName,
  dockerConfig,
  installPulumiMocks,
  isWrappedSecret,
  plainOccurrences,
  promiseOf,
  recorded,
  registered,
  resetRecorded,
  unwrapSecrets,
} from './testing.js';

const TAG = planImageTag({ version: '0.1.0', git: CLEAN_GIT, now: new Date('2026-11-24T00:00:00Z') }, { allowDirty: false });
const DEV = { docker: { bindAddress: '127.0.0.1' }, app: { logLevel: 'debug' }, ephemeral: true };
const PROD = {
  docker: { host: 'ssh://deploy@tk-prod.example.com', bindAddress: '0.0.0.0', ports: { http: 80 } },
  release: { gate: { successes: 5, intervalMs: 2000, timeoutMs: 120000 } },
};

/** Declares a target and waits until every resource of it is registered. */
async function declare(name: string, config: DockerStackConfig): Promise<DockerTarget> {
  const target = new DockerTarget(name, { config, imageTag: TAG });
  const infra = target.infrastructure;
  await registered([
    target,
    target.dockerProvider,
    infra,
    infra.network,
    ...Object.values(infra.volumes),
    infra.postgres,
    infra.caddy,
    target.appImage,
    target.appImage.image,
    target.release,
    target.cleanup,
  ]);
  // RemoteImages are not exposed; their containers depend on them, so they are registered too.
  return target;
}

function nameOfUrn(urn: string): string {
  return urn === '' ? '' : (urn.split('::').pop() ?? urn);
}

type Inputs = Record<string, unknown>;

describe('DockerTarget (Pulumi mocks)', () => {
  before(async () => {
    await installPulumiMocks('dev');
  });
  beforeEach(() => {
    resetRecorded();
  });

  it('declares the dev stack: provider, infrastructure, app image, release and cleanup, each under its parent', async () => {
    await declare('tk', dockerConfig('dev', DEV));
    const graph = recorded.map((r) => `${r.type} ${r.name} <- ${nameOfUrn(r.parent) || '(root)'}`).sort();
    assert.deepEqual(graph, [
      'command:local:Command tk-cleanup <- tk',
      'command:local:Command tk-release <- tk',
      'docker:index/container:Container tk-infra-caddy <- tk-infra',
      'docker:index/container:Container tk-infra-postgres <- tk-infra',
      'docker:index/image:Image tk-app-image <- tk-app-image',
      'docker:index/network:Network tk-infra-network <- tk-infra',
      'docker:index/remoteImage:RemoteImage tk-infra-caddy-image <- tk-infra',
      'docker:index/remoteImage:RemoteImage tk-infra-postgres-image <- tk-infra',
      'docker:index/volume:Volume tk-infra-caddyConfig <- tk-infra',
      'docker:index/volume:Volume tk-infra-caddyData <- tk-infra',
      'docker:index/volume:Volume tk-infra-pgdata <- tk-infra',
      'docker:index/volume:Volume tk-infra-snapshots <- tk-infra',
      'pulumi:providers:docker tk-docker <- tk',
      'trapperkeeper:docker:AppImage tk-app-image <- tk',
      'trapperkeeper:docker:Infrastructure tk-infra <- tk',
      'trapperkeeper:docker:Target tk <- (root)',
    ]);
    const physical = recorded.filter((r) => r.type.startsWith('docker:index/') && r.type !== 'docker:index/image:Image' && !r.type.includes('remoteImage'));
    assert.deepEqual(physical.map((r) => (r.inputs as Inputs).name).sort(), [
      'tk-dev-caddy',
      'tk-dev-caddy-config',
      'tk-dev-caddy-data',
      'tk-dev-net',
      'tk-dev-pgdata',
      'tk-dev-postgres',
      'tk-dev-snapshots',
    ]);
  });

  it('declares every Docker object on the stack\'s own provider, built from docker.host', async () => {
    await declare('tk-prod', dockerConfig('prod', PROD));
    const provider = byName('tk-prod-docker');
    assert.deepEqual(provider.inputs.host, 'ssh://deploy@tk-prod.example.com');
    const dockerResources = recorded.filter((r) => r.type.startsWith('docker:index/'));
    assert.equal(dockerResources.length, 10);
    for (const resource of dockerResources) assert.ok(resource.provider.startsWith(`${provider.urn}::`), `${resource.name} uses ${resource.provider}`);
  });

  it('leaves docker.host to the environment for the local engine', async () => {
    await declare('tk-local', dockerConfig('dev', DEV));
    assert.equal(byName('tk-local-docker').inputs.host, undefined);
  });

  it('publishes only Caddy\'s public ports, on the bind address; PostgreSQL publishes nothing', async () => {
    await declare('tk-ports', dockerConfig('prod', PROD));
    assert.deepEqual(byName('tk-ports-infra-caddy').inputs.ports, [
      { internal: 80, external: 80, ip: '0.0.0.0', protocol: 'tcp' },
      { internal: 50051, external: 50051, ip: '0.0.0.0', protocol: 'tcp' },
    ]);
    assert.deepEqual(byName('tk-ports-infra-postgres').inputs.ports, []);
  });

  it('with docker.domain: publishes 80, 443 and gRPC, boots Caddy with TLS, hands the release the TLS, exports the https URL', async () => {
    const target = await declare('tk-tls', dockerConfig('prod', { ...PROD, docker: { ...PROD.docker, domain: 'tk.example.com', acmeEmail: 'ops@example.com' } }));
    const caddy = byName('tk-tls-infra-caddy').inputs;
    assert.deepEqual(caddy.ports, [
      { internal: 80, external: 80, ip: '0.0.0.0', protocol: 'tcp' },
      { internal: 443, external: 443, ip: '0.0.0.0', protocol: 'tcp' },
      { internal: 50051, external: 50051, ip: '0.0.0.0', protocol: 'tcp' },
    ]);
    const bootstrap = JSON.parse((caddy.uploads as { content: string }[])[0]?.content ?? '{}') as { apps: { tls?: unknown } };
    assert.deepEqual(bootstrap.apps.tls, {
      certificates: { automate: ['tk.example.com'] },
      automation: { policies: [{ subjects: ['tk.example.com'], issuers: [{ module: 'acme', email: 'ops@example.com' }] }] },
    });
    const plan = parseDockerReleasePlan((byName('tk-tls-release').inputs.environment as Inputs).TK_RELEASE_PLAN, 'TK_RELEASE_PLAN', 'pulumi up');
    assert.deepEqual(dockerSpecOf(plan).proxy.tls, { domain: 'tk.example.com', grpcDomain: 'tk.example.com', issuer: 'acme', acmeEmail: 'ops@example.com', httpsPort: 443 });
    assert.equal(await promiseOf(target.endpoints.publicHttpUrl), 'https://tk.example.com');
    assert.equal(await promiseOf(target.endpoints.publicGrpcAddress), 'tk.example.com:50051');
  });

  it('gives PostgreSQL its database, user and password (the password as a secret), volumes, alias and health check', async () => {
    await declare('tk-pg', dockerConfig('dev', DEV));
    const postgres = byName('tk-pg-infra-postgres').inputs;
    const envs = postgres.envs as unknown[];
    assert.deepEqual(envs.slice(0, 2), ['POSTGRES_DB=trapperkeeper', 'POSTGRES_USER=trapperkeeper']);
    assert.ok(isWrappedSecret(envs[2]), 'POSTGRES_PASSWORD is a secret input');
    assert.equal(unwrapSecrets(envs[2]), `POSTGRES_PASSWORD=${CANARY.postgresPassword}`);
    assert.equal(postgres.image, 'sha256:tk-pg-infra-postgres-image');
    assert.deepEqual(postgres.volumes, [
      { volumeName: 'tk-dev-pgdata', containerPath: '/var/lib/postgresql/data' },
      { volumeName: 'tk-dev-snapshots', containerPath: '/snapshots' },
    ]);
    assert.deepEqual(postgres.networksAdvanced, [{ name: 'tk-dev-net', aliases: ['postgres'] }]);
    assert.deepEqual(postgres.healthcheck, {
      tests: ['CMD-SHELL', 'pg_isready -q -h 127.0.0.1 -p 5432 -U trapperkeeper -d trapperkeeper'],
      interval: '5s',
      timeout: '5s',
      retries: 12,
      startPeriod: '30s',
    });
    assert.equal(postgres.restart, 'unless-stopped');
    assert.equal(postgres.wait, true);
    assert.deepEqual(byName('tk-pg-infra-postgres-image').inputs, { name: 'postgres:16', keepLocally: true });
  });

  it('runs Caddy from the uploaded bootstrap config with --resume, on the stack network', async () => {
    await declare('tk-caddy', dockerConfig('dev', DEV));
    const caddy = byName('tk-caddy-infra-caddy').inputs;
    assert.deepEqual(caddy.command, ['caddy', 'run', '--config', '/etc/caddy/bootstrap.json', '--resume']);
    const uploads = caddy.uploads as { file: string; content: string }[];
    assert.equal(uploads.length, 1);
    assert.equal(uploads[0]?.file, '/etc/caddy/bootstrap.json');
    assert.equal((JSON.parse(uploads[0]?.content ?? '{}') as { admin: { listen: string } }).admin.listen, 'localhost:2019');
    assert.deepEqual(caddy.networksAdvanced, [{ name: 'tk-dev-net', aliases: [] }]);
    assert.deepEqual(caddy.volumes, [
      { volumeName: 'tk-dev-caddy-data', containerPath: '/data' },
      { volumeName: 'tk-dev-caddy-config', containerPath: '/config' },
    ]);
  });

  it('keeps the data volumes on destroy unless the stack is ephemeral, and replaces fixed-name objects delete-first', async () => {
    await declare('tk-keep', dockerConfig('prod', PROD));
    await declare('tk-drop', dockerConfig('dev', DEV));
    const volumes = (prefix: string) => recorded.filter((r) => r.type === 'docker:index/volume:Volume' && r.name.startsWith(`${prefix}-infra-`));
    assert.deepEqual(volumes('tk-keep').map((v) => v.retainOnDelete), [true, true, true, true]);
    assert.deepEqual(volumes('tk-drop').map((v) => v.retainOnDelete), [false, false, false, false]);
    for (const name of ['tk-keep-infra-network', 'tk-keep-infra-postgres', 'tk-keep-infra-caddy']) assert.equal(byName(name).deleteBeforeReplace, true, name);
  });

  it('builds the app image from app/Dockerfile, tagged <semver>-<sha>-<commit time>-b<base images digest>, with the configured bases', async () => {
    await declare('tk-img', dockerConfig('dev', { docker: { images: { appBuildBase: 'tk-offline/node:20-build', appRuntimeBase: 'tk-offline/node:20' } } }));
    const image = recorded.find((r) => r.type === 'docker:index/image:Image' && r.name === 'tk-img-app-image');
    assert.ok(image);
    assert.deepEqual(image.inputs, {
      imageName: 'tk-dev/trapperkeeper:0.1.0-0123abcd-20261123T101500Z-bde914999',
      skipPush: true,
      buildOnPreview: false,
      build: {
        context: '.',
        dockerfile: 'app/Dockerfile',
        builderVersion: 'BuilderBuildKit',
        args: {
          BUILD_IMAGE: 'tk-offline/node:20-build',
          RUNTIME_IMAGE: 'tk-offline/node:20',
          VERSION: '0.1.0',
          REVISION: CLEAN_GIT.commit,
          CREATED: '2026-11-23T10:15:00.000Z',
        },
      },
    });
  });

  it('runs the release CLI with the spec in plain sight and the secrets as secrets, after the infrastructure and the image', async () => {
    const target = await declare('tk-rel', dockerConfig('dev', DEV));
    const release = byName('tk-rel-release');
    const inputs = release.inputs;
    assert.equal(inputs.create, 'node launcher/release-cli.mjs deploy');
    assert.equal(inputs.update, 'node launcher/release-cli.mjs deploy');
    assert.equal(inputs.delete, undefined, 'a replaced release must not run destroy');

    const environment = inputs.environment as Inputs;
    assert.deepEqual(Object.keys(environment).sort(), ['TK_DATABASE_URL', 'TK_HMAC_SECRET', 'TK_RELEASE_PLAN']);
    assert.equal(environment.TK_RELEASE_PLAN, canonicalJson(target.releasePlan));
    // What the release process reads back: a valid plan of this schema version, for this target.
    const plan = parseDockerReleasePlan(environment.TK_RELEASE_PLAN, 'TK_RELEASE_PLAN', 'pulumi up');
    assert.equal(plan.schemaVersion, RELEASE_PLAN_SCHEMA_VERSION);
    assert.deepEqual(dockerSpecOf(plan), target.releaseSpec);
    assert.ok(isWrappedSecret(environment.TK_DATABASE_URL));
    assert.ok(isWrappedSecret(environment.TK_HMAC_SECRET));
    const databaseUrl = `postgres://trapperkeeper:${CANARY.postgresPassword}@postgres:5432/trapperkeeper`;
    assert.equal(unwrapSecrets(environment.TK_DATABASE_URL), databaseUrl);
    assert.equal(unwrapSecrets(environment.TK_HMAC_SECRET), CANARY.hmacSecret);

    const triggers = inputs.triggers as unknown[];
    assert.equal(triggers[0], target.releaseSpec.image.releaseId);
    assert.match(String(triggers[0]), /^0\.1\.0-0123abcd-20261123T101500Z-bf4c6b54b\+cfg\.[0-9a-f]{8}$/);
    assert.equal(triggers[1], specHash(target.releaseSpec));
    assert.ok(isWrappedSecret(triggers[2]));
    assert.equal(unwrapSecrets(triggers[2]), secretsDigest([databaseUrl, CANARY.hmacSecret]));

    const dependencies = new Set(release.dependencies);
    for (const name of ['tk-rel-infra-postgres', 'tk-rel-infra-caddy', 'tk-rel-infra-network', 'tk-rel-infra-pgdata', 'tk-rel-app-image']) {
      const urns = recorded.filter((r) => r.name === name && r.custom).map((r) => r.urn);
      assert.ok(urns.length > 0 && urns.every((urn) => dependencies.has(urn)), `the release waits for ${name}`);
    }
    assert.ok(!recorded.some((r) => r.dependencies.includes(release.urn)), 'nothing waits for the release');
  });

  it('tears the release down in a separate command that only runs on destroy, before the infrastructure goes', async () => {
    const target = await declare('tk-down', dockerConfig('dev', DEV));
    const cleanup = byName('tk-down-cleanup');
    assert.equal(cleanup.inputs.create, undefined);
    assert.equal(cleanup.inputs.delete, 'node launcher/release-cli.mjs destroy');
    const environment = cleanup.inputs.environment as Inputs;
    assert.equal(environment.TK_RELEASE_PLAN, canonicalJson(target.releasePlan));
    assert.ok(isWrappedSecret(environment.TK_DATABASE_URL) && isWrappedSecret(environment.TK_HMAC_SECRET));
    assert.ok(byName('tk-down-infra-postgres').urn && cleanup.dependencies.includes(byName('tk-down-infra-postgres').urn));
  });

  it('never sends a secret value in plain text in any resource input', async () => {
    await declare('tk-leak', dockerConfig('dev', DEV));
    await declare('tk-leak-prod', dockerConfig('prod', PROD));
    const leaks = recorded.flatMap((r) => [
      ...plainOccurrences(r.inputs, CANARY.postgresPassword).map((path) => `${r.name}.${path} has the database password`),
      ...plainOccurrences(r.inputs, CANARY.hmacSecret).map((path) => `${r.name}.${path} has the HMAC secret`),
      ...plainOccurrences(r.inputs, encodeURIComponent(CANARY.postgresPassword)).map((path) => `${r.name}.${path} has the encoded password`),
    ]);
    assert.deepEqual(leaks, []);
    // The canaries are there (so the check above can fail): inside secrets only.
    assert.equal(JSON.stringify(unwrapSecrets(recorded.map((r) => r.inputs))).includes(CANARY.postgresPassword), true);
  });

  it('hands the notification sinks to the release command as one secret TK_NOTIFY, never in the spec, the triggers or the cleanup', async () => {
    const hookSecret = 'canary-webhook-secret-0123456789abcdef';
    const slackUrl = 'https://hooks.slack.com/services/T0/B0/canary-slack-path';
    const target = await declare('tk-notify', dockerConfig('dev', { ...DEV, notifications: { webhook: { url: 'https://ops.example.com/hooks/tk', secret: hookSecret }, slack: { url: slackUrl } } }));
    const environment = byName('tk-notify-release').inputs.environment as Inputs;
    assert.ok(isWrappedSecret(environment.TK_NOTIFY));
    const settings = JSON.parse(String(unwrapSecrets(environment.TK_NOTIFY))) as { webhook: { secret: string }; slack: { url: string } };
    assert.equal(settings.webhook.secret, hookSecret);
    assert.equal(settings.slack.url, slackUrl);
    assert.equal((byName('tk-notify-cleanup').inputs.environment as Inputs).TK_NOTIFY, undefined);
    const leaks = recorded.flatMap((r) => [...plainOccurrences(r.inputs, hookSecret), ...plainOccurrences(r.inputs, 'canary-slack-path'), ...plainOccurrences(r.inputs, 'ops.example.com')].map((path) => `${r.name}.${path}`));
    assert.deepEqual(leaks, []);
    assert.ok(!JSON.stringify(target.releaseSpec).includes('hooks'), 'the release spec carries no sink');

    await declare('tk-quiet', dockerConfig('dev', DEV));
    assert.equal((byName('tk-quiet-release').inputs.environment as Inputs).TK_NOTIFY, undefined, 'no sink: no TK_NOTIFY');
  });

  it('reports the release outputs from the release CLI summary, in plain text, and the secret outputs as secrets', async () => {
    const target = await declare('tk-out', dockerConfig('dev', DEV));
    assert.equal(await promiseOf(target.status.liveSlot), MOCK_RELEASE_SUMMARY.liveSlot);
    assert.equal(await promiseOf(target.status.liveRelease), MOCK_RELEASE_SUMMARY.liveRelease);
    assert.equal(await promiseOf(target.status.previousRelease), MOCK_RELEASE_SUMMARY.previousRelease);
    assert.equal(await promiseOf(target.status.latestSnapshot), MOCK_RELEASE_SUMMARY.latestSnapshot);
    assert.equal(await pulumi.isSecret(target.status.liveRelease), false);
    assert.equal(await promiseOf(target.endpoints.publicHttpUrl), 'http://127.0.0.1:8080');
    assert.equal(await promiseOf(target.endpoints.publicGrpcAddress), '127.0.0.1:50051');
    assert.equal(await promiseOf(target.image.ref), 'tk-dev/trapperkeeper:0.1.0-0123abcd-20261123T101500Z-bf4c6b54b');
    assert.equal(await pulumi.isSecret(target.release.environment), true);
    assert.equal(await pulumi.isSecret(target.infrastructure.postgres.envs), true);
  });

  it('shows the progress on stderr only: the summary on stdout is read, not printed again', async () => {
    await declare('tk-log', dockerConfig('dev', DEV));
    assert.equal(byName('tk-log-release').inputs.logging, 'stderr');
    assert.equal(byName('tk-log-cleanup').inputs.logging, 'stderr');
  });

  it('rolls back through pulumi up: a pinned release reaches the release CLI and is a trigger, and the outputs say how to undo it', async () => {
    const plain = await declare('tk-nopin', dockerConfig('dev', DEV));
    assert.equal((byName('tk-nopin-release').inputs.triggers as unknown[]).length, 3, 'no pin: the triggers of earlier versions, so nothing re-runs on upgrade');
    assert.equal(
      await promiseOf(plain.rollbackCommand),
      `pulumi config set --path release.rollbackTo ${MOCK_RELEASE_SUMMARY.previousRelease} --stack dev && pulumi up --stack dev`,
    );

    const pin = '0.0.9-89abcdef-20261120T080000Z+cfg.0badc0de';
    const pinned = await declare('tk-pin', dockerConfig('dev', { ...DEV, release: { rollbackTo: pin } }));
    const inputs = byName('tk-pin-release').inputs;
    assert.equal((inputs.environment as Inputs).TK_ROLLBACK_TO, pin);
    assert.ok((inputs.triggers as unknown[]).includes(pin), 'setting or removing the pin runs the release command');
    assert.match(await promiseOf(pinned.rollbackCommand), /^release\.rollbackTo pins 0\.0\.9-.*pulumi config rm --path release\.rollbackTo --stack dev && pulumi up --stack dev$/);
  });
});
