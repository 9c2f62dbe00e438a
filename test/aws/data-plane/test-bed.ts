/**
 * One AWS stack on moto with the data plane stand-in, for the tests that release through it (the
 * contract, the scenarios): moto, the stack's resources as its Pulumi program declares them
 * (ecs-stack.ts), a database of its own on the local PostgreSQL, the release image pushed to
 * moto's ECR under its tag (the local image stands in for it on Docker), one-off tasks on Docker
 * (ecs-tasks-on-docker.ts) and the data plane (data-plane.ts). Plans reach the stack by its
 * domain, here 127.0.0.1, at the load balancer stand-in's listener ports.
 */
import { execFileSync } from 'node:child_process';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateRepositoryCommand, PutImageCommand } from '@aws-sdk/client-ecr';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { exampleReleasePlan } from '../../../components/release/memory-backend.js';
import type { ReleasePlan } from '../../../components/release/plan.js';
import type { ReleaseBackend } from '../../../components/release/ports.js';
import { awsClients, type AwsClients } from '../../../providers/aws/clients.js';
import { LOCK_KEY } from '../../../providers/aws/lock/dynamodb-lock.js';
import type { AwsTargetPlan } from '../../../providers/aws/plan-target.js';
import { awsReleaseBackend, type AwsBackendOptions } from '../../../providers/aws/release-backend.js';
import { ensureAppImage, requireDocker, TEST_IMAGES } from '../../support/images.js';
import { REGION, REGISTRY, declareEcs, declareLoadBalancer, declareSnapshotBucket, testTarget, type DeclaredEcs, type TargetGroupArns } from '../ecs-stack.js';
import { runEcsTasksOnDocker, type TaskRunner } from '../ecs-tasks-on-docker.js';
import { startMoto, useFakeAwsCredentials, type Moto } from '../moto.js';
import { startDataPlane, type DataPlane } from './data-plane.js';
import { Agent as HttpsAgent } from 'node:https';
import { httpsGet } from '../../../components/health-gate/client-tls.js';

/** The image tag every test release runs (the config part of the release id differs). */
export const TEST_TAG = '0.1.0-0123abc-20261202T100000Z-b00000001';
const REPOSITORY = 'tk-test/trapperkeeper';

export interface AwsTestBed {
  moto: Moto;
  /** The release's clients (their ECS and ELBv2 calls partly answered by the stand-ins). */
  clients: AwsClients;
  /** Fresh clients to moto, destroyed at tear-down. */
  clientsFor(): AwsClients;
  dataPlane: DataPlane;
  runner: TaskRunner;
  target: AwsTargetPlan;
  declared: DeclaredEcs;
  targetGroups: TargetGroupArns;
  /** `postgres://...` of the stack's database. */
  databaseUrl: string;
  /** A release of the test image with config `cfg` (8 hex digits) and `overrides`. */
  plan(cfg: string, overrides?: Partial<ReleasePlan>): ReleasePlan;
  backend(plan: ReleasePlan, on?: AwsClients, options?: AwsBackendOptions): ReleaseBackend;
  tearDown(): Promise<void>;
}

export async function startAwsTestBed(options: { database: string; drainTimeoutMs?: number }): Promise<AwsTestBed> {
  const psql = (sql: string) => execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-Atc', sql], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  await requireDocker();
  const appImage = ensureAppImage();
  useFakeAwsCredentials();
  const moto = await startMoto();
  const made: AwsClients[] = [];
  const clientsFor = () => {
    const clients = awsClients({ region: REGION, endpoint: moto.url, maxAttempts: 1 });
    made.push(clients);
    return clients;
  };
  const clients = clientsFor();
  const secrets = new SecretsManagerClient({ region: REGION, endpoint: moto.url });
  const image = (ref: string) => (ref.startsWith(`${REGISTRY}/${REPOSITORY}:`) ? appImage : ref.startsWith('public.ecr.aws/docker/library/postgres:') ? TEST_IMAGES.postgres : ref);
  const runner = runEcsTasksOnDocker(clients.ecs, { logs: clients.logs, secrets, region: REGION, image });
  const names = testTarget();
  const dataPlane = await startDataPlane({ motoUrl: moto.url, region: REGION, runner, elbv2: clients.elbv2, image, cluster: names.cluster, loadBalancer: names.loadBalancer });
  const target = testTarget('test', dataPlane.listeners);
  const drainTimeoutMs = options.drainTimeoutMs ?? 0;
  const plan = (cfg: string, overrides: Partial<ReleasePlan> = {}) => {
    const made = exampleReleasePlan(`${TEST_TAG}+cfg.${cfg}`, {
      target: { ...target },
      secretEnv: [],
      drainTimeoutMs,
      // Users reach the stack by its domain: here the load balancer stand-in's listeners on 127.0.0.1.
      endpoints: { publicHttpUrl: `https://127.0.0.1:${dataPlane.listeners.web}`, publicGrpcAddress: `127.0.0.1:${dataPlane.listeners.grpc}` },
      gate: { successes: 2, intervalMs: 100, timeoutMs: 30_000 },
      ...overrides,
    });
    if (!made.image.ref.startsWith(`${REPOSITORY}:`)) throw new Error(`test plans run ${REPOSITORY}, not ${made.image.ref}`);
    return made;
  };
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/${options.database}?sslmode=disable`;
  psql(`DROP DATABASE IF EXISTS ${options.database}`);
  psql(`CREATE DATABASE ${options.database}`);
  const targetGroups = await declareLoadBalancer(moto.url, clients, target, { drainTimeoutMs });
  const declared = await declareEcs(moto.url, clients.ecs, target, 'test', { databaseUrl, targetGroups });
  await declareSnapshotBucket(clients.s3, target.snapshotBucket, 7);
  await clients.dynamodb.send(
    new CreateTableCommand({
      TableName: target.lockTable,
      KeySchema: [{ AttributeName: LOCK_KEY.name, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: LOCK_KEY.name, AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  // What `pulumi up` pushed: the release image under its tag.
  await clients.ecr.send(new CreateRepositoryCommand({ repositoryName: REPOSITORY, imageTagMutability: 'IMMUTABLE' }));
  const digest = execFileSync('docker', ['image', 'inspect', '--format', '{{.Id}}', appImage], { encoding: 'utf8' }).trim();
  await clients.ecr.send(
    new PutImageCommand({
      repositoryName: REPOSITORY,
      imageTag: TEST_TAG,
      imageManifest: JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 1, digest }, layers: [] }),
    }),
  );
  return {
    moto,
    clients,
    clientsFor,
    dataPlane,
    runner,
    target,
    declared,
    targetGroups,
    databaseUrl,
    plan,
    backend: (current, on = clients, backendOptions = {}) =>
      awsReleaseBackend(on, current, {
        slots: { pollMs: 100, rolloutTimeoutMs: 120_000 },
        database: { pollMs: 200 },
        lockPollMs: 50,
        gate: { ca: dataPlane.certificate.cert },
        ...backendOptions,
      }),
    async tearDown() {
      await dataPlane.stop();
      runner.restore();
      await Promise.all(runner.runs.map((r) => r.done.catch(() => undefined)));
      for (const c of made) c.destroy();
      secrets.destroy();
      await moto.stop();
      psql(`DROP DATABASE IF EXISTS ${options.database} WITH (FORCE)`);
    },
  };
}

/** What a user got from the public web listener: its /readyz status and release, or why nothing answered. */
export type PublicAnswer = { status: number; release: unknown } | { unreachable: string };

/** What users get from the bed's public web listener, every 100 ms until stopped. */
export function watchPublicWeb(bed: AwsTestBed): { stop(): Promise<PublicAnswer[]> } {
  const seen: PublicAnswer[] = [];
  const agent = new HttpsAgent({ keepAlive: true });
  let running = true;
  const loop = (async () => {
    while (running) {
      const answer = await httpsGet(`https://127.0.0.1:${bed.dataPlane.listeners.web}/readyz`, { tls: { serverName: '127.0.0.1', ca: bed.dataPlane.certificate.cert }, timeoutMs: 5_000, agent });
      seen.push('unreachable' in answer ? answer : { status: answer.status, release: (JSON.parse(answer.body) as { release?: unknown }).release });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      agent.destroy();
      return seen;
    },
  };
}
