import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createDeployEvents } from '../../../components/events/deploy-events.js';
import { lockHolderForThisProcess } from '../../../components/lock/lock-holder.js';
import { PhaseClock } from '../../../components/release/phases.js';
import { runRelease } from '../../../components/release/pipeline.js';
import { APP_SERVICES, otherSlot, type ReleasePlan, type Slot } from '../../../components/release/plan.js';
import type { ReleaseBackend, RoutedRelease } from '../../../components/release/ports.js';
import { promote } from '../../../components/release/promote.js';
import { gcpTargetOf } from '../../../providers/gcp/plan-target.js';
import { withGcpBackend } from '../../../providers/gcp/runtime.js';
import { startCloudLoggingEmulator } from '../../../providers/gcp/emulator/cloud-logging.js';
import { loggingClient } from '../../../providers/gcp/logs/revision-logs.js';
import { openGcpStackOperations } from '../../../providers/gcp/stack-operations.js';
import { runTkctlInProcess, type TkctlResult } from '../../tkctl/harness.js';
import { SLOT_LABEL } from '../../../providers/gcp/run/stack.js';
import { placeholderRevisionName } from '../../../providers/gcp/run/placeholder-template.js';
import { createGcpReleaseFixture, type GcpReleaseFixture } from '../support/gcp-release-fixture.js';

function eventLog() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  return { events: createDeployEvents({ format: 'json', destination, jsonFile: '' }), names: () => lines.map((line) => String((JSON.parse(line) as { event?: string }).event)) };
}

const PLACEHOLDER_TEXT = /^No release of tk-c[0-9a-f]+-(web-ui|sensor-api) is live yet: this is the placeholder revision/;

/** What users get from the web UI's service URL while only the placeholder serves: 503 and its text. */
async function assertPlaceholderAnswers(plan: ReleasePlan, why: string): Promise<void> {
  const response = await fetch(`${plan.endpoints.publicHttpUrl}/readyz`, { signal: AbortSignal.timeout(5000) });
  assert.equal(response.status, 503, why);
  assert.match(await response.text(), PLACEHOLDER_TEXT, why);
}

/** A sensor's gRPC call to the sensor API's service address, as the sensors make it (h2c through the front). */
async function sensorCall(plan: ReleasePlan): Promise<grpc.ServiceError | 'answered'> {
  const client = new grpc.Client(plan.endpoints.publicGrpcAddress, grpc.credentials.createInsecure());
  try {
    return await new Promise((resolve) =>
      client.makeUnaryRequest('/grpc.health.v1.Health/Check', (value: Buffer) => value, (value: Buffer) => value, Buffer.alloc(0), (error) => resolve(error ?? 'answered')),
    );
  } finally {
    client.close();
  }
}

async function publicRelease(plan: ReleasePlan): Promise<string> {
  const response = await fetch(`${plan.endpoints.publicHttpUrl}/readyz`, { signal: AbortSignal.timeout(5000) });
  return String(((await response.json()) as { release?: unknown }).release);
}

describe('GCP releases through the pipeline (Cloud Run emulator on Docker, fake-gcs-server, PostgreSQL)', { timeout: 900_000 }, () => {
  let fixture: GcpReleaseFixture;
  before(async () => {
    fixture = await createGcpReleaseFixture();
  });
  after(async () => {
    await fixture?.tearDown();
  });

  it('before any release users reach the placeholder each service was created with (503, gRPC UNAVAILABLE), running without the database; nothing is live, no slot holds a release', async () => {
    const plan = fixture.plan();
    await assertPlaceholderAnswers(plan, 'the web UI answers 503 from the placeholder');
    const call = await sensorCall(plan);
    assert.ok(call !== 'answered', 'the sensor API has no release to answer');
    assert.equal(call.code, grpc.status.UNAVAILABLE);
    assert.match(call.details, PLACEHOLDER_TEXT);
    for (const service of APP_SERVICES) {
      const name = `projects/${fixture.spec.project}/locations/${fixture.spec.region}/services/${fixture.spec.services[service].name}`;
      const created = fixture.emulator.service(name);
      assert.deepEqual(created.revisions, [placeholderRevisionName(fixture.spec.services[service].name)]);
      assert.deepEqual(created.traffic, [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 100 }], 'Cloud Run gives a new service\'s first revision all the traffic');
      const placeholder = fixture.emulator.revision(name, created.revisions[0]!);
      assert.equal(placeholder.state, 'ready');
      assert.ok(placeholder.container, 'it runs, as Cloud Run runs it');
      assert.deepEqual(placeholder.template.containers?.[0]?.env ?? [], [], 'no database URL, no secret');
    }
    // The release and the operator see no release: the placeholder is no slot.
    const backend = fixture.backend();
    assert.deepEqual(await backend.routing.read(), { live: null, staging: null });
    assert.deepEqual([await backend.slots.describe('blue'), await backend.slots.describe('green')], [undefined, undefined]);
    const ref = { stack: plan.stack, target: gcpTargetOf(plan), database: fixture.database };
    await openGcpStackOperations(ref, { cloudRunEndpoint: { host: fixture.emulator.host, port: fixture.emulator.port }, storageEndpoint: fixture.gcs.apiEndpoint }, async (operations) => {
      assert.deepEqual(await operations.report(), {
        live: null,
        slots: { blue: null, green: null },
        latestSnapshot: null,
        lock: 'free',
        revisions: { 'sensor-api': placeholderRevisionName(fixture.spec.services['sensor-api'].name), 'web-ui': placeholderRevisionName(fixture.spec.services['web-ui'].name) },
      });
    });
  });

  it('a failed pg_dump snapshot aborts the release before any migration: nothing migrated, no revision started, the lock free again', async () => {
    // A session holding an exclusive lock makes pg_dump give up after its lock wait timeout.
    fixture.sql('CREATE TABLE blocker (id int)');
    const holder: ChildProcess = spawn('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', fixture.database, '-c', 'BEGIN; LOCK TABLE blocker IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(300);'], { stdio: 'ignore', env: { ...process.env, PGAPPNAME: 'tk-test-lock-holder' } });
    try {
      while (fixture.sql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'blocker' AND l.mode = 'AccessExclusiveLock' AND l.granted").trim() !== '1') await sleep(100);
      const base = fixture.plan();
      const plan: ReleasePlan = { ...base, snapshots: { ...base.snapshots, lockWaitTimeoutMs: 1000 } };
      const log = eventLog();
      const options = {
        cloudRunEndpoint: { host: fixture.emulator.host, port: fixture.emulator.port },
        artifactRegistryEndpoint: { host: fixture.registry.host, port: fixture.registry.port }, storageEndpoint: fixture.gcs.apiEndpoint, progress: (line: string) => process.stderr.write(`# ${line}\n`) };
      const failure = await withGcpBackend(plan, options, (backend) => runRelease(plan, backend, { events: log.events, secrets: fixture.secrets })).then(
        () => assert.fail('the release went on without a snapshot'),
        (error: unknown) => error as Error,
      );
      assert.match(failure.message, /The pg_dump snapshot of tk_gcp_\w+ failed \(Task .* failed with exit code 1\); no migration ran/);
      const names = log.names();
      assert.ok(names.includes('snapshot.failed') && names.includes('release.failed'), names.join(', '));
      assert.ok(!names.includes('migrated') && !names.includes('slot.started'), names.join(', '));
      const jobs = fixture.emulator.executions.map((e) => `${e.job.split('/').pop()}:${e.exitCode}`);
      assert.deepEqual(jobs.map((j) => j.replace(/^tk-c[0-9a-f]+-/, '')), ['migrate:0', 'pg-dump:1'], 'the status was read, the dump failed, no migrate job ran');

      await withGcpBackend(plan, options, async (backend) => {
        const status = await backend.database.migrationStatus(plan, fixture.secrets);
        assert.ok(status.pending.length > 0 && status.statuses.every((s) => s.status === 'pending'), 'every migration still pending');
        assert.deepEqual(await backend.database.listSnapshots(), []);
        assert.deepEqual(await backend.routing.read(), { live: null, staging: null });
        assert.equal(await backend.slots.describe('blue'), undefined, 'no revision was started');
        await assertPlaceholderAnswers(plan, 'users still get the placeholder\'s 503, never an ungated release');
        const lock = await backend.lock.acquire(lockHolderForThisProcess(plan.image), { waitMs: 0, events: log.events });
        await lock.release();
      });
    } finally {
      // The server keeps sleeping when only the client goes: end the session itself.
      fixture.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tk-test-lock-holder'");
      holder.kill('SIGTERM');
      fixture.sql('DROP TABLE IF EXISTS blocker');
    }
  });

  it('a release, a second one, a rollback, and a release after the rollback each end with every user on the intended release (traffic pinned by name is moved)', async () => {
    const backend: ReleaseBackend = fixture.backend();
    const log = eventLog();
    const [a, b, c] = [fixture.plan('info'), fixture.plan('debug'), fixture.plan('warn')];
    await backend.database.migrate(a, fixture.secrets, log.events);
    const clock = new PhaseClock();
    const release = async (plan: ReleasePlan, slot: Slot, from: 'fresh' | 'parked') => {
      const routing = await backend.routing.read();
      await promote(backend, { plan, slot, live: routing.live, staged: routing.staging, from, secrets: fixture.secrets }, { clock, events: log.events, kind: from === 'parked' ? 'rollback' : 'release' });
      const live: RoutedRelease | null = (await backend.routing.read()).live;
      assert.deepEqual(live, { slot, releaseId: plan.image.releaseId });
      assert.equal(await publicRelease(plan), plan.image.releaseId, 'users reach the release at the service URL');
    };
    // The first release: users get the placeholder's 503 until its revisions passed the gate.
    let checkedBeforeSwitch = false;
    const gated: ReleaseBackend = {
      ...backend,
      routing: {
        ...backend.routing,
        async switchTo(plan, slot, expectedLive) {
          assert.ok(log.names().includes('gate.passed') && !log.names().includes('promoted'), log.names().join(', '));
          assert.equal(expectedLive, null, 'the placeholder is not a live release');
          await assertPlaceholderAnswers(plan, 'after the gate, before the switch: still the placeholder');
          checkedBeforeSwitch = true;
          return backend.routing.switchTo(plan, slot, expectedLive);
        },
      },
    };
    await promote(gated, { plan: a, slot: 'blue', live: null, staged: null, from: 'fresh', secrets: fixture.secrets }, { clock, events: log.events, kind: 'release' });
    assert.ok(checkedBeforeSwitch);
    assert.deepEqual((await backend.routing.read()), { live: { slot: 'blue', releaseId: a.image.releaseId }, staging: null }, 'the placeholder is not staged as a rollback target');
    assert.equal(await publicRelease(a), a.image.releaseId, 'users reach the first release once it passed the gate');
    const call = await sensorCall(a);
    assert.ok(call === 'answered' || call.code !== grpc.status.UNAVAILABLE, 'sensors reach the release, not the placeholder');
    for (const service of APP_SERVICES) {
      const name = `projects/${fixture.spec.project}/locations/${fixture.spec.region}/services/${fixture.spec.services[service].name}`;
      const placeholder = placeholderRevisionName(fixture.spec.services[service].name);
      assert.ok(!fixture.emulator.service(name).traffic.some((t) => t.revision === placeholder), `${service}: no traffic block names the placeholder any more`);
    }
    // Nothing to roll back to: the placeholder never is a rollback target.
    const refused = await runRelease(a, backend, { events: log.events, secrets: fixture.secrets, rollback: {} }).then(
      () => assert.fail('a rollback right after the first release went through'),
      (error: unknown) => error as Error,
    );
    assert.match(refused.message, /Nothing is parked in the green slot to roll back to/);
    assert.deepEqual((await backend.routing.read()).live, { slot: 'blue', releaseId: a.image.releaseId });
    assert.equal(await publicRelease(a), a.image.releaseId, 'the refused rollback changed nothing users see');

    await release(b, 'green', 'fresh');
    assert.deepEqual((await backend.routing.read()).staging, { slot: 'blue', releaseId: a.image.releaseId }, 'the previous release stays staged: the rollback target');
    await release(a, 'blue', 'parked');
    // Traffic is now pinned to A's revision by name: a release that only deployed would never serve.
    await release(c, 'green', 'fresh');
    for (const service of Object.values(c.target.services as Record<string, string>)) {
      const name = `projects/${fixture.spec.project}/locations/${fixture.spec.region}/services/${service}`;
      const serving = fixture.emulator.service(name).traffic.filter((t) => (t.percent ?? 0) > 0);
      assert.equal(serving.length, 1);
      assert.equal(serving[0]!.tag, 'green');
      assert.equal(serving[0]!.type, 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', 'pinned by name, never LATEST');
    }
    assert.ok(log.names().filter((n) => n === 'promoted').length === 4, log.names().join(', '));

    // What `release-cli status --stack` and `lock status|break` report for this stack (its StackOperations).
    const ref = { stack: c.stack, target: gcpTargetOf(c), database: fixture.database };
    const options = { cloudRunEndpoint: { host: fixture.emulator.host, port: fixture.emulator.port }, storageEndpoint: fixture.gcs.apiEndpoint };
    const serving = (service: string) => fixture.emulator.service(`projects/${fixture.spec.project}/locations/${fixture.spec.region}/services/${service}`).traffic.find((t) => (t.percent ?? 0) > 0)?.revision ?? null;
    await openGcpStackOperations(ref, options, async (operations) => {
      const status = await operations.report();
      assert.deepEqual(status, {
        live: { slot: 'green', releaseId: c.image.releaseId },
        slots: { blue: a.image.releaseId, green: c.image.releaseId },
        latestSnapshot: null,
        lock: 'free',
        revisions: { 'sensor-api': serving(fixture.spec.services['sensor-api'].name), 'web-ui': serving(fixture.spec.services['web-ui'].name) },
      });
      assert.match(String(status.revisions['web-ui']), /-green-/);
      const held = await backend.lock.acquire(lockHolderForThisProcess(c.image), { waitMs: 0, events: log.events });
      assert.match(await operations.lockStatus(), /^\S+@\S+ \(pid \d+\) releasing /, 'lock status names the holder');
      assert.match((await operations.report()).lock, /pid \d+/);
      await operations.breakLock({ events: log.events, by: 'test', reason: 'the holder is this test' });
      assert.equal(await operations.lockStatus(), 'free');
      await held.release();
    });

    // tkctl on the stack, found from its Pulumi.<stack>.yaml as an operator has it.
    const dir = mkdtempSync(join(tmpdir(), 'tk-gcp-tkctl-'));
    try {
      writeFileSync(
        join(dir, `Pulumi.${c.stack}.yaml`),
        stringifyYaml({
          config: {
            'trapperkeeper:provider': 'gcp',
            'trapperkeeper:gcp': { project: fixture.spec.project, projectNumber: '123456789012', region: fixture.spec.region, artifactRepository: fixture.spec.artifactRepository },
            'trapperkeeper:database': { name: fixture.database, user: 'trapperkeeper' },
          },
        }),
      );
      const logging = await startCloudLoggingEmulator();
      const tkctl = (args: string[]) => runTkctlInProcess([...args, '--stack', c.stack], dir, undefined, { gcp: { ...options, loggingEndpoint: { host: logging.host, port: logging.port } } });
      const ok = (result: TkctlResult) => {
        assert.equal(result.code, 0, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
        return result;
      };
      const status = JSON.parse(ok(await tkctl(['status', '--json'])).stdout) as {
        provider: string;
        live: unknown;
        previous: unknown;
        lock: string;
        health: Array<{ component: string; role: string; state: string; health: string | null }>;
      };
      assert.equal(status.provider, 'gcp');
      assert.deepEqual(status.live, { slot: 'green', releaseId: c.image.releaseId });
      assert.deepEqual(status.previous, { slot: 'blue', releaseId: a.image.releaseId, running: true });
      assert.equal(status.lock, 'free');
      const health = Object.fromEntries(status.health.map((h) => [h.role, h]));
      assert.equal(health['web-ui (live)']?.component, String(serving(fixture.spec.services['web-ui'].name)).split('/').pop());
      assert.deepEqual([health['web-ui (live)']?.state, health['web-ui (live)']?.health], ['ready', '100% of traffic']);
      assert.deepEqual([health['sensor-api (parked)']?.state, health['sensor-api (parked)']?.health], ['ready', '0% of traffic']);

      const backup = JSON.parse(ok(await tkctl(['backup', '--json'])).stdout) as { name: string; size: number; sha256: string; location: string };
      assert.equal(backup.location, `gs://${fixture.bucket.name}/snapshots/${backup.name}`);
      const [stored] = await fixture.bucket.file(`snapshots/${backup.name}`).download();
      assert.equal(createHash('sha256').update(stored).digest('hex'), backup.sha256, 'the backup is the object in the bucket');
      assert.equal(stored.subarray(0, 5).toString(), 'PGDMP');
      const listed = JSON.parse(ok(await tkctl(['snapshots', 'list', '--json'])).stdout) as { location: string; snapshots: Array<{ name: string; verified: boolean; size: number }> };
      assert.deepEqual(listed.snapshots.map((s) => [s.name, s.verified, s.size]), [[backup.name, true, stored.length]]);
      assert.equal(JSON.parse(ok(await tkctl(['status', '--json'])).stdout).latestSnapshot, backup.name);

      // logs: Cloud Logging's entries of the live revisions (stdout and stderr), put there as Cloud Run's agent does.
      const revisionOf = (service: string, tag: string) => String(fixture.emulator.service(`projects/${fixture.spec.project}/locations/${fixture.spec.region}/services/${service}`).traffic.find((t) => t.tag === tag)?.revision ?? '').split('/').pop()!;
      const writer = loggingClient({ host: logging.host, port: logging.port });
      const now = Date.now();
      const entry = (service: string, revision: string, stream: 'stdout' | 'stderr' | 'requests', payload: { textPayload: string } | { jsonPayload: object }, offsetMs: number) => ({
        logName: `projects/${fixture.spec.project}/logs/run.googleapis.com%2F${stream}`,
        resource: { type: 'cloud_run_revision', labels: { service_name: service, revision_name: revision, location: fixture.spec.region, configuration_name: service } },
        timestamp: { seconds: Math.floor((now - 5000 + offsetMs) / 1000), nanos: ((now - 5000 + offsetMs) % 1000) * 1e6 },
        ...payload,
      });
      const web = fixture.spec.services['web-ui'].name;
      const grpc = fixture.spec.services['sensor-api'].name;
      await writer.writeLogEntries({
        entries: [
          entry(web, revisionOf(web, 'green'), 'stdout', { textPayload: 'green web 1' }, 0),
          entry(web, revisionOf(web, 'green'), 'stderr', { textPayload: 'green web 2 on stderr' }, 10),
          entry(web, revisionOf(web, 'green'), 'stdout', { jsonPayload: { fields: { msg: { stringValue: 'green web 3' }, level: { numberValue: 30 } } } }, 20),
          entry(grpc, revisionOf(grpc, 'green'), 'stdout', { textPayload: 'green grpc 1' }, 15),
          entry(web, revisionOf(web, 'blue'), 'stdout', { textPayload: 'blue web, parked' }, 5),
          entry(web, revisionOf(web, 'green'), 'requests', { textPayload: 'GET /readyz 200 (the request log)' }, 25),
        ],
      });
      const webLogs = ok(await tkctl(['logs', 'web-ui', '--tail', '2']));
      assert.deepEqual(webLogs.stdout.trim().split('\n'), ['{"msg":"green web 3","level":30}']);
      assert.match(webLogs.stderr, /^green web 2 on stderr$/m);
      assert.doesNotMatch(webLogs.stdout + webLogs.stderr, /green web 1|parked|request log/);
      const both = ok(await tkctl(['logs']));
      assert.deepEqual(both.stdout.trim().split('\n'), ['web-ui | green web 1', 'sensor-api | green grpc 1', 'web-ui | {"msg":"green web 3","level":30}']);
      await writer.close();

      const restore = await tkctl(['restore', backup.name, '--confirm', c.stack]);
      assert.equal(restore.code, 1);
      assert.match(restore.stderr, /tkctl restore works on Docker stacks only.*provider gcp.*gcloud sql backups/s);
      await logging.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('a config-only release after a first one: the new revisions run the current image with the new config, users stay on the gated revision until the switch, and every revision but the service\'s first is one a release created', async () => {
    const backend = fixture.backend();
    const log = eventLog();
    const routing = await backend.routing.read();
    assert.ok(routing.live, 'an earlier release is live');
    const before = fixture.plan('info');
    // Same image, other config: another log level and another scaling (the services' template as pulumi up created it has none).
    const plan = fixture.plan('error', { instances: { min: 1, max: 4 } });
    assert.equal(plan.image.ref, before.image.ref);
    const slot = otherSlot(routing.live.slot);
    const serviceName = (service: (typeof APP_SERVICES)[number]) => `projects/${fixture.spec.project}/locations/${fixture.spec.region}/services/${fixture.spec.services[service].name}`;
    const serving = (service: (typeof APP_SERVICES)[number]) => fixture.emulator.service(serviceName(service)).traffic.filter((t) => (t.percent ?? 0) > 0);
    const servingBefore = Object.fromEntries(APP_SERVICES.map((service) => [service, serving(service)]));
    let checkedAfterStart = false;
    // The real backend, observed right after the slot started: before the gate and the switch.
    const observed = {
      ...backend,
      slots: {
        ...backend.slots,
        async start(started: ReleasePlan, at: Slot, env: Record<string, string | undefined>) {
          await backend.slots.start(started, at, env);
          for (const service of APP_SERVICES) {
            assert.deepEqual(serving(service), servingBefore[service], `${service}: users still reach the gated live revision only`);
            const tagged = fixture.emulator.service(serviceName(service)).traffic.find((t) => t.tag === at);
            assert.ok(tagged?.revision && (tagged.percent ?? 0) === 0, `${service}: the new revision is tagged ${at} at 0%`);
            const template = fixture.emulator.revision(serviceName(service), tagged.revision).template as { containers: Array<{ image: string; env: Array<{ name: string; value?: string }> }>; scaling?: { minInstanceCount?: number; maxInstanceCount?: number } };
            const container = template.containers[0]!;
            assert.equal(container.image, plan.image.ref, `${service}: the release's image`);
            const env = Object.fromEntries(container.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
            assert.equal(env.TK_LOG_LEVEL, 'error');
            assert.equal(env.TK_RELEASE_ID, plan.image.releaseId);
            assert.equal(template.scaling?.maxInstanceCount, 4, `${service}: the new scaling reached the revision`);
          }
          assert.equal(await publicRelease(plan), routing.live!.releaseId, 'users reach the live release at the service URL');
          checkedAfterStart = true;
        },
      },
    };
    await promote(observed, { plan, slot, live: routing.live, staged: routing.staging, from: 'fresh', secrets: fixture.secrets }, { clock: new PhaseClock(), events: log.events, kind: 'release' });
    assert.ok(checkedAfterStart);
    assert.deepEqual((await backend.routing.read()).live, { slot, releaseId: plan.image.releaseId });
    assert.equal(await publicRelease(plan), plan.image.releaseId, 'after the switch users reach the new release');
    for (const service of APP_SERVICES) {
      const [created, ...others] = fixture.emulator.service(serviceName(service)).revisions;
      assert.ok(created, 'the revision the service was created with');
      for (const revision of others) {
        assert.ok(fixture.emulator.revision(serviceName(service), revision).template.labels?.[SLOT_LABEL], `${service}: revision ${revision} was created by a release`);
      }
      assert.ok(fixture.emulator.updates.filter((u) => u.service === serviceName(service)).every((u) => u.paths.length === 1 && ['template', 'traffic'].includes(u.paths[0]!)), 'every update named the one field it changed');
    }
  });
});
