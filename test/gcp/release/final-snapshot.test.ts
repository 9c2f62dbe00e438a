import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createDeployEvents } from '../../../components/events/deploy-events.js';
import type { ReleasePlan } from '../../../components/release/plan.js';
import { gcpTargetOf } from '../../../providers/gcp/plan-target.js';
import { destroyGcpStack, type GcpBackendOptions } from '../../../providers/gcp/runtime.js';
import { openGcpStackOperations } from '../../../providers/gcp/stack-operations.js';
import { listSnapshots } from '../../../providers/gcp/snapshot/snapshot-store.js';
import { TEST_IMAGES } from '../../support/images.js';
import { createGcpReleaseFixture, type GcpReleaseFixture } from '../support/gcp-release-fixture.js';

function eventLog() {
  const lines: Array<{ event?: string; msg?: string }> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { event?: string; msg?: string }));
      callback();
    },
  });
  return { events: createDeployEvents({ format: 'json', destination, jsonFile: '' }), lines };
}

function psql(database: string, statement: string): string {
  return execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-At', '-c', statement], { encoding: 'utf8' });
}

describe('pulumi destroy of a GCP stack: the final snapshot (Cloud Run emulator on Docker, fake-gcs-server, PostgreSQL)', { timeout: 600_000 }, () => {
  let fixture: GcpReleaseFixture;
  let options: GcpBackendOptions;
  const projectDirs: string[] = [];
  const projectDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'tk-gcp-destroy-'));
    projectDirs.push(dir);
    return dir;
  };
  before(async () => {
    fixture = await createGcpReleaseFixture();
    options = {
      cloudRunEndpoint: { host: fixture.emulator.host, port: fixture.emulator.port },
      artifactRegistryEndpoint: { host: fixture.registry.host, port: fixture.registry.port },
      storageEndpoint: fixture.gcs.apiEndpoint,
      progress: (line) => process.stderr.write(`# ${line}\n`),
    };
    // Owned by the app's role, which the job connects as (as the migrations leave them).
    fixture.sql('CREATE TABLE readings (id int PRIMARY KEY, sensor text NOT NULL); ALTER TABLE readings OWNER TO trapperkeeper');
  });
  after(async () => {
    await fixture?.tearDown();
    for (const dir of projectDirs) rmSync(dir, { recursive: true, force: true });
  });

  const ephemeral = (): ReleasePlan => ({ ...fixture.plan(), ephemeral: true });

  it('an ephemeral stack: a verified snapshot is copied out of the bucket before it goes, and restoring it into a fresh database shows the data', async () => {
    fixture.sql("INSERT INTO readings VALUES (1, 'greenhouse-7')");
    const dir = projectDir();
    const log = eventLog();
    await destroyGcpStack(ephemeral(), log.events, { ...options, projectDir: dir });

    const stackDir = join(dir, '.trapperkeeper/final-snapshots', fixture.plan().stack);
    const files = readdirSync(stackDir).sort();
    assert.equal(files.length, 2, files.join(', '));
    const [dump, checksum] = files as [string, string];
    assert.equal(checksum, `${dump}.sha256`);
    const sha256 = createHash('sha256').update(readFileSync(join(stackDir, dump))).digest('hex');
    assert.equal(readFileSync(join(stackDir, checksum), 'utf8'), `${sha256}  ${dump}\n`, 'sha256sum -c reads the checksum file');
    const stored = await listSnapshots(fixture.bucket, fixture.database);
    assert.deepEqual(stored.map((s) => [s.name, s.verified, s.sha256]), [[dump, true, sha256]], 'the same snapshot, verified in the bucket');
    assert.deepEqual(fixture.emulator.executions.map((e) => `${e.job.split('/').pop()}:${e.exitCode}`.replace(/^tk-c[0-9a-f]+-/, '')), ['pg-dump:0'], 'pg_dump ran as the stack\'s Cloud Run job');
    const dumpJob = fixture.emulator.jobTemplate(`projects/${fixture.spec.project}/locations/${fixture.spec.region}/jobs/${fixture.spec.jobs.pgDump.name}`) as { template: { containers: Array<{ image: string; args?: string[] }> } };
    assert.equal(dumpJob.template.containers[0]!.image, TEST_IMAGES.postgres, 'the declared job was pointed at the plan\'s snapshot image');
    assert.deepEqual(dumpJob.template.containers[0]!.args ?? [], fixture.spec.jobs.pgDump.defaultArgs, 'per-run args went in the execution\'s overrides, not into the job');
    assert.ok(log.lines.some((line) => line.event === 'snapshot.taken'), JSON.stringify(log.lines));
    assert.ok(log.lines.some((line) => line.event === 'snapshot.copied' && String(line.msg).includes('before the Cloud SQL instance')));

    // status of a stack that never released: nothing live, the final snapshot its newest.
    const ref = { stack: fixture.plan().stack, target: gcpTargetOf(fixture.plan()), database: fixture.database };
    const status = await openGcpStackOperations(ref, options, (operations) => operations.report());
    assert.deepEqual({ ...status, revisions: undefined }, { live: null, slots: { blue: null, green: null }, latestSnapshot: dump, lock: 'free', revisions: undefined });

    const restored = `${fixture.database}_restored`;
    psql('postgres', `CREATE DATABASE ${restored}`);
    try {
      execFileSync('pg_restore', ['-h', '127.0.0.1', '-U', 'postgres', '-d', restored, '--no-owner', '--exit-on-error', join(stackDir, dump)]);
      assert.equal(psql(restored, 'SELECT id, sensor FROM readings').trim(), '1|greenhouse-7');
    } finally {
      psql('postgres', `DROP DATABASE IF EXISTS ${restored} WITH (FORCE)`);
    }
  });

  it('a failed final snapshot stops the destroy with what failed and how to go on, and copies nothing', async () => {
    fixture.sql('CREATE TABLE blocker (id int); ALTER TABLE blocker OWNER TO trapperkeeper');
    const holder: ChildProcess = spawn('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', fixture.database, '-c', 'BEGIN; LOCK TABLE blocker IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(300);'], { stdio: 'ignore', env: { ...process.env, PGAPPNAME: 'tk-test-final-lock' } });
    try {
      while (fixture.sql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'blocker' AND l.mode = 'AccessExclusiveLock' AND l.granted").trim() !== '1') await sleep(100);
      const base = ephemeral();
      const plan: ReleasePlan = { ...base, snapshots: { ...base.snapshots, lockWaitTimeoutMs: 1000 } };
      const dir = projectDir();
      const before = (await listSnapshots(fixture.bucket, fixture.database)).length;
      const failure = await destroyGcpStack(plan, eventLog().events, { ...options, projectDir: dir }).then(
        () => assert.fail('destroy went on without a final snapshot'),
        (error: unknown) => error as Error & { fix?: string },
      );
      assert.match(failure.message, /^The pg_dump snapshot of tk_gcp_\w+ failed \(Task .* failed with exit code 1\); nothing was destroyed\n  fix: /);
      assert.match(String(failure.fix), /gcloud run jobs executions describe .*; fix the cause and run pulumi destroy again$/);
      assert.match(String(fixture.emulator.executions.at(-1)?.output), /canceling statement due to statement timeout\s+pg_dump: detail: Query was: LOCK TABLE public.blocker/, 'pg_dump gave up waiting for the lock');
      assert.deepEqual(readdirSync(dir), [], 'nothing copied out');
      assert.equal((await listSnapshots(fixture.bucket, fixture.database)).length, before, 'no snapshot stored');
    } finally {
      fixture.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tk-test-final-lock'");
      holder.kill('SIGTERM');
      fixture.sql('DROP TABLE IF EXISTS blocker');
    }
  });

  it('a stack that is not ephemeral keeps its instance and bucket: no job runs, nothing is copied, the log says what is kept', async () => {
    const dir = projectDir();
    const executions = fixture.emulator.executions.length;
    const log = eventLog();
    await destroyGcpStack(fixture.plan(), log.events, { ...options, projectDir: dir });
    assert.equal(fixture.emulator.executions.length, executions);
    assert.deepEqual(readdirSync(dir), []);
    assert.match(String(log.lines.find((line) => line.event === 'destroy.kept')?.msg), /keeps the Cloud SQL instance .* and the bucket gs:\/\/.* with its snapshots/);
  });
});
