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
import { runEcsTasksOnDocker } from '../ecs-tasks-on-docker.js';
import { startMoto, useFakeAwsCredentials } from '../moto.js';

const NO_DATA_PLANE =
  'moto emulates the AWS APIs, not their data plane: no load balancer listener answers and no ECS service runs a task, ' +
  'so the gate\'s probes through the test and public listeners (and the target health ECS would register) cannot pass here; ' +
  'the target-health check is tested on moto (test/aws/target-health-gate.test.ts), the probes\' transports with the Docker target';

const DB = `tk_aws_contract_${process.pid}`;
const psql = (sql: string) => execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-Atc', sql], { encoding: 'utf8' });

// The AWS backend against moto (DynamoDB, ELBv2, ECS, S3, ECR, Secrets Manager, CloudWatch Logs),
// its one-off tasks run on the local Docker engine against PostgreSQL (test/aws/ecs-tasks-on-docker.ts).
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
    const target = testTarget();
    const tag = '0.1.0-0123abc-20261202T100000Z-b00000001';
    const plan = exampleReleasePlan(`${tag}+cfg.00000001`, { target: { ...target }, secretEnv: [], drainTimeoutMs: 0 });
    const otherPlan = exampleReleasePlan(`${tag}+cfg.00000002`, { target: { ...target }, secretEnv: [], drainTimeoutMs: 0, appEnv: { TK_LOG_LEVEL: 'debug' } });
    psql(`DROP DATABASE IF EXISTS ${DB}`);
    psql(`CREATE DATABASE ${DB}`);
    await declareEcs(moto.url, clients.ecs, target, 'test', { databaseUrl: `postgres://postgres@127.0.0.1:5432/${DB}?sslmode=disable` });
    await declareLoadBalancer(moto.url, clients, target);
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
    const repository = plan.image.ref.slice(0, plan.image.ref.lastIndexOf(':'));
    await clients.ecr.send(new CreateRepositoryCommand({ repositoryName: repository, imageTagMutability: 'IMMUTABLE' }));
    const digest = execFileSync('docker', ['image', 'inspect', '--format', '{{.Id}}', appImage], { encoding: 'utf8' }).trim();
    await clients.ecr.send(
      new PutImageCommand({
        repositoryName: repository,
        imageTag: tag,
        imageManifest: JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 1, digest }, layers: [] }),
      }),
    );
    const runner = runEcsTasksOnDocker(clients.ecs, {
      logs: clients.logs,
      secrets,
      region: REGION,
      image: (ref) => (ref.startsWith(`${REGISTRY}/${repository}:`) ? appImage : ref.startsWith('public.ecr.aws/docker/library/postgres:') ? TEST_IMAGES.postgres : ref),
    });
    const backendOn = (on: AwsClients) => awsReleaseBackend(on, plan, { slots: { pollMs: 50, rolloutTimeoutMs: 10_000 }, database: { pollMs: 200 }, lockPollMs: 50 });
    return {
      backend: backendOn(clients),
      plan,
      otherPlan,
      secrets: {},
      secondBackend: () => backendOn(clientsFor()),
      async tearDown() {
        runner.restore();
        await Promise.all(runner.runs.map((r) => r.done.catch(() => undefined)));
        for (const c of made) c.destroy();
        secrets.destroy();
        await moto.stop();
        psql(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
      },
    };
  },
  { cannotRun: { 'slots-routing-gate': NO_DATA_PLANE, 'routing-switch': NO_DATA_PLANE } },
);
