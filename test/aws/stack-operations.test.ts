/**
 * The operator's commands on an AWS stack found from its Pulumi.<stack>.yaml: the release CLI's
 * `status` and `lock status|break`, and tkctl's `status`, `snapshots list`, `logs` and `backup`,
 * against what moto holds (routing weights, the DynamoDB lock, snapshots in S3, log lines in
 * CloudWatch Logs); the backup's pg_dump task runs on the local Docker engine (ecs-tasks-on-docker.ts).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { stringify as stringifyYaml } from 'yaml';
import { lockHolderForThisProcess } from '../../components/lock/lock-holder.js';
import { exampleReleasePlan } from '../../components/release/memory-backend.js';
import type { ReleasePlan } from '../../components/release/plan.js';
import { awsClients, type AwsClients } from '../../providers/aws/clients.js';
import { LOCK_KEY, acquireDynamoLock } from '../../providers/aws/lock/dynamodb-lock.js';
import { elbRouting } from '../../providers/aws/routing/listener-routing.js';
import { ecsSlots } from '../../providers/aws/slots/ecs-slots.js';
import { putSnapshot, snapshotKey, verifySnapshot } from '../../providers/aws/snapshot/s3-snapshots.js';
import { MINIMAL_AWS_SECTION } from '../../providers/aws/testing.js';
import { ensureAppImage, requireDocker, TEST_IMAGES } from '../support/images.js';
import { runTkctlInProcess, TKCTL_BIN, type TkctlResult } from '../tkctl/harness.js';
import { REGION, REGISTRY, declareEcs, declareLoadBalancer, declareSnapshotBucket, testTarget, type TargetGroupArns } from './ecs-stack.js';
import { runEcsTasksOnDocker, type TaskRunner } from './ecs-tasks-on-docker.js';
import { startMoto, useFakeAwsCredentials, type Moto } from './moto.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STACK = 'test';
const TARGET = testTarget(STACK);
const DB = `tk_aws_ops_${process.pid}`;
const psql = (sql: string) => execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-Atc', sql], { encoding: 'utf8' }).trim();
const plan = (releaseId: string): ReleasePlan => exampleReleasePlan(releaseId, { target: { ...TARGET }, secretEnv: [], snapshots: { retentionDays: 7, lockWaitTimeoutMs: 5_000 } });
const V1 = plan('1.0.0-aaaaaaa-20261201T100000Z-b00000001+cfg.00000001');
const V2 = plan('1.1.0-bbbbbbb-20261202T100000Z-b00000001+cfg.00000002');
/** A pg_dump custom-format archive starts with these bytes; enough for the bucket's checks. */
const DUMP = Buffer.concat([Buffer.from('PGDMP'), Buffer.alloc(64, 7)]);

describe('the operator commands on an AWS stack (moto; pg_dump task on the local Docker engine)', { timeout: 600_000 }, () => {
  let moto: Moto;
  let clients: AwsClients;
  let secrets: SecretsManagerClient;
  let runner: TaskRunner;
  let groups: TargetGroupArns;
  let dir: string;
  const tkctl = (args: string[]) => runTkctlInProcess([...args, '--stack', STACK], dir, undefined, { aws: { clients } });
  const ok = (result: TkctlResult) => {
    assert.equal(result.code, 0, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    return result;
  };
  /** The release CLI as a person runs it in the project folder; the AWS SDK finds moto by AWS_ENDPOINT_URL. */
  const releaseCli = (args: string[]) => {
    const result = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), join(REPO_ROOT, 'providers/release-cli.ts'), ...args, '--stack', STACK], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, AWS_ENDPOINT_URL: moto.url },
    });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.trim();
  };

  before(async () => {
    await requireDocker();
    const appImage = ensureAppImage();
    useFakeAwsCredentials();
    moto = await startMoto();
    clients = awsClients({ region: REGION, endpoint: moto.url, maxAttempts: 1 });
    secrets = new SecretsManagerClient({ region: REGION, endpoint: moto.url });
    psql(`DROP DATABASE IF EXISTS ${DB}`);
    psql(`CREATE DATABASE ${DB}`);
    groups = await declareLoadBalancer(moto.url, clients, TARGET);
    await declareEcs(moto.url, clients.ecs, TARGET, STACK, { databaseUrl: `postgres://postgres@127.0.0.1:5432/${DB}?sslmode=disable`, targetGroups: groups });
    await declareSnapshotBucket(clients.s3, TARGET.snapshotBucket, 7);
    await clients.dynamodb.send(
      new CreateTableCommand({ TableName: TARGET.lockTable, KeySchema: [{ AttributeName: LOCK_KEY.name, KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: LOCK_KEY.name, AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }),
    );
    runner = runEcsTasksOnDocker(clients.ecs, {
      logs: clients.logs,
      secrets,
      region: REGION,
      image: (ref) => (ref.startsWith(`${REGISTRY}/tk-test/trapperkeeper:`) ? appImage : ref.startsWith('public.ecr.aws/docker/library/postgres:') ? TEST_IMAGES.postgres : ref),
    });
    // Two releases through the release's own ports: V1 on blue, then V2 on green, live.
    const slots = ecsSlots(clients.ecs, TARGET, { drainTimeoutMs: 1000, pollMs: 50, rolloutTimeoutMs: 10_000 });
    const routing = elbRouting(clients.elbv2, TARGET);
    await slots.start(V1, 'blue', {});
    await routing.stage(V1, 'blue', null);
    await routing.switchTo(V1, 'blue', null);
    await slots.start(V2, 'green', {});
    await routing.stage(V2, 'green', { slot: 'blue', releaseId: V1.image.releaseId });
    await routing.switchTo(V2, 'green', { slot: 'blue', releaseId: V1.image.releaseId });
    // One task of green's web-ui registered with its target group (moto reports it healthy).
    await clients.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: groups.green['web-ui'], Targets: [{ Id: '10.0.10.7', Port: 8080 }] }));

    dir = mkdtempSync(join(tmpdir(), 'tk-aws-ops-'));
    writeFileSync(join(dir, `Pulumi.${STACK}.yaml`), stringifyYaml({ config: { 'trapperkeeper:provider': 'aws', 'trapperkeeper:aws': { ...MINIMAL_AWS_SECTION, region: REGION } } }));
  });

  after(async () => {
    runner?.restore();
    await Promise.all((runner?.runs ?? []).map((r) => r.done.catch(() => undefined)));
    clients?.destroy();
    secrets?.destroy();
    await moto?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    try {
      psql(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    } catch {
      // best effort
    }
  });

  it('release-cli status and tkctl status report the live weights, both slots, the lock, the snapshots in S3 and the services\' health', async () => {
    const older = snapshotKey(STACK, new Date('2026-12-01T09:00:00Z'));
    const newer = snapshotKey(STACK, new Date('2026-12-02T09:00:00Z'));
    const bucket = { client: clients.s3, bucket: TARGET.snapshotBucket };
    await putSnapshot(bucket, older, DUMP);
    await verifySnapshot(bucket, older);
    await putSnapshot(bucket, newer, DUMP); // uploaded, never read back: not verified

    const report = JSON.parse(releaseCli(['status'])) as Record<string, unknown>;
    assert.deepEqual(report, {
      live: { slot: 'green', releaseId: V2.image.releaseId },
      slots: { blue: V1.image.releaseId, green: V2.image.releaseId },
      latestSnapshot: older,
      lock: 'free',
    });

    const status = JSON.parse(ok(await tkctl(['status', '--json'])).stdout) as Record<string, unknown> & {
      health: Array<{ component: string; role: string; state: string; health: string | null }>;
      snapshots: Array<{ name: string; verified: boolean; size: number }>;
    };
    for (const key of ['live', 'slots', 'latestSnapshot', 'lock']) assert.deepEqual(status[key], (report as Record<string, unknown>)[key], key);
    assert.equal(status.provider, 'aws');
    assert.deepEqual(status.previous, { slot: 'blue', releaseId: V1.image.releaseId, running: true });
    assert.deepEqual(status.snapshots.map((s) => [s.name, s.verified, s.size]), [[newer, false, DUMP.length], [older, true, DUMP.length]], 'newest first');
    const health = Object.fromEntries(status.health.map((h) => [h.role, h]));
    assert.equal(health['web-ui (live)']?.component, TARGET.services.green['web-ui']);
    assert.equal(health['web-ui (live)']?.health, '1/1 targets healthy');
    assert.equal(health['sensor-api (live)']?.health, '0/0 targets healthy');
    assert.match(String(health['web-ui (parked)']?.state), /^\d+\/1 tasks/, 'the parked slot keeps its desired count (standby running)');
    assert.equal(health['load balancer']?.component, TARGET.loadBalancer);

    const text = ok(await tkctl(['status'])).stdout;
    assert.match(text, new RegExp(`live: +${V2.image.releaseId.replaceAll('+', '\\+')} \\(green\\)`));
    assert.match(text, new RegExp(`previous: +${V1.image.releaseId.replaceAll('+', '\\+')} \\(blue, running\\)`));
  });

  it('lock status names the holder of the DynamoDB lock, and lock break frees it', async () => {
    const held = await acquireDynamoLock({ client: clients.dynamodb, region: REGION, table: TARGET.lockTable, stack: STACK }, lockHolderForThisProcess(V2.image), { waitMs: 0 });
    assert.match(releaseCli(['lock', 'status']), /^\S+@\S+ \(pid \d+\) releasing /);
    assert.match(JSON.parse(ok(await tkctl(['status', '--json'])).stdout).lock, new RegExp(`pid ${process.pid}\\b`));
    releaseCli(['lock', 'break', '--reason', 'the holder is this test']);
    assert.equal(releaseCli(['lock', 'status']), 'free');
    await held.release();
  });

  it('logs prints the live slot\'s lines from CloudWatch Logs (each service prefixed), never the parked slot\'s; --follow streams new ones until Ctrl-C', async () => {
    const put = async (service: 'web-ui' | 'sensor-api', slot: 'blue' | 'green', lines: string[]) => {
      const group = `/trapperkeeper/${STACK}/${service}`;
      const stream = `${slot}/${service}/${slot}0task${service.length}`;
      await clients.logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
      const now = Date.now();
      await clients.logs.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: stream, logEvents: lines.map((message, i) => ({ message, timestamp: now - 1000 + i })) }));
    };
    await put('web-ui', 'green', ['{"msg":"green web 1"}', '{"msg":"green web 2"}', '{"msg":"green web 3"}']);
    await put('sensor-api', 'green', ['{"msg":"green grpc 1"}']);
    await put('web-ui', 'blue', ['{"msg":"blue web, parked"}']);

    const one = ok(await tkctl(['logs', 'web-ui', '--tail', '2'])).stdout.trim().split('\n');
    assert.deepEqual(one, ['{"msg":"green web 2"}', '{"msg":"green web 3"}']);
    const both = ok(await tkctl(['logs'])).stdout.trim().split('\n');
    assert.deepEqual(both.sort(), ['sensor-api | {"msg":"green grpc 1"}', 'web-ui | {"msg":"green web 1"}', 'web-ui | {"msg":"green web 2"}', 'web-ui | {"msg":"green web 3"}']);

    // --follow, as a person runs it (the tkctl bin; the SDK finds moto by AWS_ENDPOINT_URL): new lines as they come, Ctrl-C ends it cleanly.
    const follow = spawn(process.execPath, [TKCTL_BIN, 'logs', 'sensor-api', '--follow', '--stack', STACK], { cwd: dir, env: { ...process.env, AWS_ENDPOINT_URL: moto.url }, stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follow.stdout.on('data', (chunk: Buffer) => (followed += chunk.toString('utf8')));
    follow.stderr.on('data', (chunk: Buffer) => (followed += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => follow.on('close', (code) => resolve(code)));
    const until = async (text: string) => {
      for (const deadline = Date.now() + 30_000; !followed.includes(text); await sleep(100)) if (Date.now() > deadline) assert.fail(`no "${text}" in: ${followed}`);
    };
    await until('green grpc 1');
    await clients.logs.send(
      new PutLogEventsCommand({ logGroupName: `/trapperkeeper/${STACK}/sensor-api`, logStreamName: `green/sensor-api/green0task10`, logEvents: [{ message: '{"msg":"green grpc 2, new"}', timestamp: Date.now() }] }),
    );
    await until('green grpc 2, new');
    follow.kill('SIGINT');
    assert.equal(await exited, 0, followed);
    assert.equal(followed.split('green grpc 1').length, 2, 'each line once');

    const postgres = await tkctl(['logs', 'postgres']);
    assert.equal(postgres.code, 1);
    assert.match(postgres.stderr, /RDS instance tk-test-postgres.*aws rds describe-db-log-files --region eu-west-1 --db-instance-identifier tk-test-postgres/s);
  });

  it('backup runs the release\'s pg_dump task with the live release and lists a verified snapshot in S3; restore, apikey and snapshots prune refuse before doing anything', async () => {
    const backup = JSON.parse(ok(await tkctl(['backup', '--json'])).stdout) as { name: string; size: number; sha256: string; location: string };
    assert.equal(backup.location, `s3://${TARGET.snapshotBucket}/${backup.name}`);
    const object = await clients.s3.send(new GetObjectCommand({ Bucket: TARGET.snapshotBucket, Key: backup.name }));
    const bytes = Buffer.from(await object.Body!.transformToByteArray());
    assert.equal(bytes.subarray(0, 5).toString(), 'PGDMP', 'a real pg_dump custom-format archive');
    assert.equal(bytes.length, backup.size);
    assert.ok(runner.runs.some((r) => r.family === `${TARGET.cluster}-snapshot`), 'the release\'s snapshot task ran');

    const listed = JSON.parse(ok(await tkctl(['snapshots', 'list', '--json'])).stdout) as { location: string; snapshots: Array<{ name: string; verified: boolean }> };
    assert.equal(listed.location, `s3://${TARGET.snapshotBucket}/snapshots/`);
    assert.deepEqual(listed.snapshots[0], { ...listed.snapshots[0], name: backup.name, verified: true }, 'the newest, verified');
    assert.equal(JSON.parse(releaseCli(['status'])).latestSnapshot, backup.name);

    const runs = runner.runs.length;
    const restore = await tkctl(['restore', backup.name, '--confirm', STACK]);
    assert.equal(restore.code, 1);
    assert.match(restore.stderr, /tkctl restore works on Docker stacks only.*provider aws.*restore-db-instance-to-point-in-time/s);
    const apikey = await tkctl(['apikey', 'list']);
    assert.equal(apikey.code, 1);
    assert.match(apikey.stderr, /tkctl apikey works on Docker stacks only.*provider aws.*fix: run it as a one-off task of the release image/s);
    const prune = await tkctl(['snapshots', 'prune']);
    assert.equal(prune.code, 1);
    assert.match(prune.stderr, /tkctl snapshots prune works on Docker stacks only.*lifecycle rule/s);
    assert.equal(runner.runs.length, runs, 'no task ran');
  });
});
