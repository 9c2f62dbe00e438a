import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DeployError } from '../../components/errors.js';
import { MemoryBackend, exampleReleasePlan } from '../../components/release/memory-backend.js';
import { runRelease } from '../../components/release/pipeline.js';
import type { ReleasePlan } from '../../components/release/plan.js';
import type { ReleaseBackend } from '../../components/release/ports.js';
import { awsClients, type AwsClients } from '../../providers/aws/clients.js';
import { ecsDatabase } from '../../providers/aws/database/ecs-database.js';
import { capturedEvents } from '../../providers/aws/testing.js';
import { ensureAppImage, requireDocker, TEST_IMAGES } from '../support/images.js';
import { REGION, REGISTRY, SECRET_VALUES, declareEcs, declareSnapshotBucket, testTarget } from './ecs-stack.js';
import { runEcsTasksOnDocker, type TaskRunner } from './ecs-tasks-on-docker.js';
import { startMoto, useFakeAwsCredentials, type Moto } from './moto.js';

const DB = `tk_aws_db_${process.pid}`;
const TARGET = testTarget();
const psql = (sql: string, db = 'postgres') => execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', '-Atc', sql], { encoding: 'utf8' }).trim();

describe('the database port on ECS: migration status, pg_dump into S3 and migrations as one-off tasks (moto; RunTask on the local Docker engine)', { timeout: 600_000 }, () => {
  let moto: Moto;
  let clients: AwsClients;
  let secrets: SecretsManagerClient;
  let runner: TaskRunner;
  let plan: ReleasePlan;

  before(async () => {
    await requireDocker();
    const appImage = ensureAppImage();
    useFakeAwsCredentials();
    moto = await startMoto();
    clients = awsClients({ region: REGION, endpoint: moto.url, maxAttempts: 1 });
    secrets = new SecretsManagerClient({ region: REGION, endpoint: moto.url });
    psql(`DROP DATABASE IF EXISTS ${DB}`);
    psql(`CREATE DATABASE ${DB}`);
    await declareEcs(moto.url, clients.ecs, TARGET, 'test', { databaseUrl: `postgres://postgres@127.0.0.1:5432/${DB}?sslmode=disable` });
    await declareSnapshotBucket(clients.s3, TARGET.snapshotBucket, 7);
    runner = runEcsTasksOnDocker(clients.ecs, {
      logs: clients.logs,
      secrets,
      region: REGION,
      image: (ref) => (ref.startsWith(`${REGISTRY}/tk-test/trapperkeeper:`) ? appImage : ref.startsWith('public.ecr.aws/docker/library/postgres:') ? TEST_IMAGES.postgres : ref),
    });
    plan = exampleReleasePlan('1.0.0-aaaaaaa-20261201T100000Z-b00000001+cfg.00000001', { target: { ...TARGET }, secretEnv: [], snapshots: { retentionDays: 7, lockWaitTimeoutMs: 2_000 } });
  });
  after(async () => {
    runner?.restore();
    await Promise.all((runner?.runs ?? []).map((r) => r.done.catch(() => undefined)));
    clients?.destroy();
    secrets?.destroy();
    await moto?.stop();
    try {
      psql(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    } catch {
      // best effort
    }
  });

  const database = () => ecsDatabase(clients, TARGET, { pollMs: 200 });

  it('a failed snapshot aborts the release before any migration: the pipeline stops, the schema is untouched', async () => {
    // pg_dump cannot lock a table another session holds exclusively, and gives up after lockWaitTimeoutMs.
    psql('CREATE TABLE held_by_another_session (id int)', DB);
    let holder: ChildProcess | undefined;
    try {
      holder = spawn('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', DB, '-c', 'BEGIN; LOCK TABLE held_by_another_session IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120);'], { stdio: 'ignore' });
      for (let i = 0; i < 50 && psql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'held_by_another_session' AND l.mode = 'AccessExclusiveLock' AND l.granted", DB) !== '1'; i += 1) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const memory = new MemoryBackend({ images: [plan.image.ref] });
      const backend: ReleaseBackend = { lock: memory.lock, routing: memory.routing, slots: memory.slots, images: memory.images, gate: memory.gate, database: database() };
      const { events, names } = capturedEvents();
      await assert.rejects(runRelease(plan, backend, { events, secrets: {} }), (error: unknown) => error instanceof DeployError && /snapshot failed.*nothing was migrated/s.test(error.message) && /dump: exit [1-9]/.test(error.message));
      assert.ok(!names().includes('migrated'), names().join(', '));
      assert.ok(!memory.calls.some((c) => c.startsWith('slots.start')), memory.calls.join(', '));
      assert.equal(psql("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'held_by_another_session'", DB), '0', 'no migration ran');
      assert.deepEqual((await database().listSnapshots()).filter((s) => s.verified), []);
    } finally {
      holder?.kill();
      psql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${DB}' AND pid <> pg_backend_pid()`);
      psql('DROP TABLE IF EXISTS held_by_another_session', DB);
    }
  });

  it('reports the pending migrations, takes a pg_dump that lands in S3 and is verified by a full read, then migrates once', async () => {
    const { events, names } = capturedEvents();
    const before = await database().migrationStatus(plan, {});
    assert.ok(before.pending.length > 0, 'a new database has migrations pending');
    assert.deepEqual([before.failed, before.changed, before.running], [[], [], []]);

    const snapshot = await database().snapshot(plan, events);
    assert.equal(snapshot.verified, true);
    const object = await clients.s3.send(new GetObjectCommand({ Bucket: TARGET.snapshotBucket, Key: snapshot.name }));
    const bytes = Buffer.from(await object.Body!.transformToByteArray());
    assert.equal(bytes.subarray(0, 5).toString(), 'PGDMP', 'a real pg_dump custom-format archive');

    const applied = await database().migrate(plan, {}, events);
    assert.deepEqual(applied.applied, before.pending);
    assert.deepEqual((await database().migrationStatus(plan, {})).pending, []);
    assert.ok(Number(psql("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'", DB)) > 0, 'the migrations created tables');
    assert.ok((await database().listSnapshots()).some((s) => s.name === snapshot.name && s.verified));
    assert.match(await database().restoreHint(plan, snapshot), new RegExp(`s3://${TARGET.snapshotBucket}/${snapshot.name}`));
    await database().applyRetention(plan, new Date(), events);
    assert.ok(names().includes('snapshot.taken') && names().includes('migrated'), names().join(', '));

    // The secrets reached the containers from Secrets Manager, never on a command line.
    const argv = JSON.stringify(runner.runs.flatMap((r) => r.argv));
    assert.ok(!argv.includes(SECRET_VALUES.databasePassword) && !argv.includes(SECRET_VALUES.hmacSecret));
    assert.ok(runner.runs.some((r) => r.family === `${TARGET.cluster}-snapshot`) && runner.runs.some((r) => r.family === `${TARGET.cluster}-migrate`));
  });
});
