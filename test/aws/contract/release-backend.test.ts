import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateRepositoryCommand, PutImageCommand } from '@aws-sdk/client-ecr';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describeReleaseBackendContract } from '../../../components/release/backend-contract.js';
import { exampleReleasePlan } from '../../../components/release/memory-backend.js';
import { awsClients, type AwsClients } from '../../../providers/aws/clients.js';
import { LOCK_KEY } from '../../../providers/aws/lock/dynamodb-lock.js';
import { awsReleaseBackend } from '../../../providers/aws/release-backend.js';
import { ensureAppImage, requireDocker, TEST_IMAGES } from '../../support/images.js';
import { REGION, REGISTRY, declareEcs, declareLoadBalancer, declareSnapshotBucket, testTarget } from '../ecs-stack.js';
import { startDataPlane } from '../data-plane/data-plane.js';
import { runEcsTasksOnDocker } from '../ecs-tasks-on-docker.js';
import { startMoto, useFakeAwsCredentials } from '../moto.js';

const DB = `tk_aws_contract_${process.pid}`;
const psql = (sql: string) => execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-Atc', sql], { encoding: 'utf8' });

// The AWS backend against moto (DynamoDB, ELBv2, ECS, S3, ECR, Secrets Manager, CloudWatch Logs),
// its one-off tasks run on the local Docker engine against PostgreSQL (test/aws/ecs-tasks-on-docker.ts),
// and a data plane stand-in beside moto (test/aws/data-plane/): the slots' ECS services run their
// tasks on Docker, registered in their target groups and health-checked, and the load balancer's
// listeners are TLS proxies on 127.0.0.1 that route by the listeners' actions in moto. The gate's
// probes and the public verification go through those listeners, by the plan's domain (127.0.0.1)
// and listener ports, trusting the stand-in's certificate.
describeReleaseBackendContract(
  'AWS (moto)',
  async () => {
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
    const tag = '0.1.0-0123abc-20261202T100000Z-b00000001';
    const repository = `tk-test/trapperkeeper`;
    const image = (ref: string) => (ref.startsWith(`${REGISTRY}/${repository}:`) ? appImage : ref.startsWith('public.ecr.aws/docker/library/postgres:') ? TEST_IMAGES.postgres : ref);
    const runner = runEcsTasksOnDocker(clients.ecs, { logs: clients.logs, secrets, region: REGION, image });
    const names = testTarget();
    const dataPlane = await startDataPlane({ motoUrl: moto.url, region: REGION, runner, elbv2: clients.elbv2, image, cluster: names.cluster, loadBalancer: names.loadBalancer });
    const target = testTarget('test', dataPlane.listeners);
    const common = {
      target: { ...target },
      secretEnv: [],
      drainTimeoutMs: 0,
      // Users reach the stack by its domain: here the load balancer stand-in's listeners on 127.0.0.1.
      endpoints: { publicHttpUrl: `https://127.0.0.1:${dataPlane.listeners.web}`, publicGrpcAddress: `127.0.0.1:${dataPlane.listeners.grpc}` },
      gate: { successes: 2, intervalMs: 100, timeoutMs: 30_000 },
    };
    const plan = exampleReleasePlan(`${tag}+cfg.00000001`, common);
    const otherPlan = exampleReleasePlan(`${tag}+cfg.00000002`, { ...common, appEnv: { TK_LOG_LEVEL: 'debug' } });
    psql(`DROP DATABASE IF EXISTS ${DB}`);
    psql(`CREATE DATABASE ${DB}`);
    const targetGroups = await declareLoadBalancer(moto.url, clients, target, { drainTimeoutMs: plan.drainTimeoutMs });
    await declareEcs(moto.url, clients.ecs, target, 'test', { databaseUrl: `postgres://postgres@127.0.0.1:5432/${DB}?sslmode=disable`, targetGroups });
    await declareSnapshotBucket(clients.s3, target.snapshotBucket, plan.snapshots.retentionDays);
    await clients.dynamodb.send(
      new CreateTableCommand({
        TableName: target.lockTable,
        KeySchema: [{ AttributeName: LOCK_KEY.name, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: LOCK_KEY.name, AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    // What `pulumi up` pushed: the release image under its tag.
    assert.equal(plan.image.ref.slice(0, plan.image.ref.lastIndexOf(':')), repository);
    await clients.ecr.send(new CreateRepositoryCommand({ repositoryName: repository, imageTagMutability: 'IMMUTABLE' }));
    const digest = execFileSync('docker', ['image', 'inspect', '--format', '{{.Id}}', appImage], { encoding: 'utf8' }).trim();
    await clients.ecr.send(
      new PutImageCommand({
        repositoryName: repository,
        imageTag: tag,
        imageManifest: JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 1, digest }, layers: [] }),
      }),
    );
    const backendOn = (on: AwsClients) =>
      awsReleaseBackend(on, plan, { slots: { pollMs: 100, rolloutTimeoutMs: 120_000 }, database: { pollMs: 200 }, lockPollMs: 50, gate: { ca: dataPlane.certificate.cert } });
    return {
      backend: backendOn(clients),
      plan,
      otherPlan,
      secrets: {},
      secondBackend: () => backendOn(clientsFor()),
      async tearDown() {
        await dataPlane.stop();
        runner.restore();
        await Promise.all(runner.runs.map((r) => r.done.catch(() => undefined)));
        for (const c of made) c.destroy();
        secrets.destroy();
        await moto.stop();
        psql(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
      },
    };
  },
);
