import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createDeployEvents } from '../../../components/events/deploy-events.js';
import { lockHolderForThisProcess } from '../../../components/lock/lock-holder.js';
import { PhaseClock } from '../../../components/release/phases.js';
import { runRelease } from '../../../components/release/pipeline.js';
import { APP_SERVICES, otherSlot, type ReleasePlan, type Slot } from '../../../components/release/plan.js';
import type { ReleaseBackend, RoutedRelease } from '../../../components/release/ports.js';
import { promote } from '../../../components/release/promote.js';
import { gcpTargetOf } from '../../../providers/gcp/plan-target.js';
import { withGcpBackend } from '../../../providers/gcp/runtime.js';
import { SLOT_LABEL } from '../../../providers/gcp/run/stack.js';
import { breakGcpLock, gcpLockStatus, readGcpStackStatus } from '../../../providers/gcp/stack-status.js';
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
    await release(a, 'blue', 'fresh');
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

    // What `release-cli status --stack` and `lock status|break` report for this stack.
    const ref = { stack: c.stack, target: gcpTargetOf(c), database: fixture.database };
    const options = { cloudRunEndpoint: { host: fixture.emulator.host, port: fixture.emulator.port }, storageEndpoint: fixture.gcs.apiEndpoint };
    const status = await readGcpStackStatus(ref, options);
    const serving = (service: string) => fixture.emulator.service(`projects/${fixture.spec.project}/locations/${fixture.spec.region}/services/${service}`).traffic.find((t) => (t.percent ?? 0) > 0)?.revision ?? null;
    assert.deepEqual(status, {
      live: { slot: 'green', releaseId: c.image.releaseId },
      slots: { blue: a.image.releaseId, green: c.image.releaseId },
      latestSnapshot: null,
      lock: 'free',
      revisions: { 'sensor-api': serving(fixture.spec.services['sensor-api'].name), 'web-ui': serving(fixture.spec.services['web-ui'].name) },
    });
    assert.match(String(status.revisions['web-ui']), /-green-/);
    const held = await backend.lock.acquire(lockHolderForThisProcess(c.image), { waitMs: 0, events: log.events });
    assert.match(await gcpLockStatus(ref, options), /^\S+@\S+ \(pid \d+\) releasing /, 'lock status names the holder');
    assert.match((await readGcpStackStatus(ref, options)).lock, /pid \d+/);
    await breakGcpLock(ref, { ...options, events: log.events, by: 'test', reason: 'the holder is this test' });
    assert.equal(await gcpLockStatus(ref, options), 'free');
    await held.release();
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
