import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { readProxyState } from '../../../providers/docker/proxy/index.js';
import type { ReleaseOutcome } from '../../../components/release/pipeline.js';
import type { ReleaseImage } from '../../../providers/docker/spec.js';
import { verifySnapshot } from '../../../providers/docker/snapshot/index.js';
import { planOfDockerSpec } from '../../../providers/docker/release-plan.js';
import { startLoad, slowRequests, type RunningLoad } from '../../support/load.js';
import { REPO_ROOT, requireDocker, testEngine, uniqueName } from '../../support/images.js';
import { createReleaseFixture, releaseId, type ReleaseFixture } from '../../support/release-fixture.js';

const MIGRATION_002 = `-- A column v2 adds; v1 keeps working with it (additive, as blue-green requires).
ALTER TABLE rules ADD COLUMN owner VARCHAR(128) NULL;
`;

/** Keeps `count` requests of `durationMs` in flight, starting one every `everyMs`, until stopped. */
function slowTraffic(httpUrl: string, everyMs: number, durationMs: number) {
  const statuses: Promise<number[]>[] = [];
  const timer = setInterval(() => statuses.push(slowRequests(httpUrl, 1, durationMs).done), everyMs);
  return {
    async stop(): Promise<number[]> {
      clearInterval(timer);
      const settled = await Promise.allSettled(statuses);
      return settled.flatMap((result) => (result.status === 'fulfilled' ? result.value : [-1]));
    },
  };
}

describe('blue-green releases on a real Docker engine, under load', { timeout: 900_000 }, () => {
  let fixture: ReleaseFixture;
  let v1: ReleaseImage;
  let v2: ReleaseImage;
  let v3: ReleaseImage;
  let load: RunningLoad | undefined;
  const timings: Record<string, unknown> = {};

  before(async () => {
    await requireDocker();
    fixture = await createReleaseFixture(uniqueName('tke2e'));
    v1 = await fixture.releaseImage(releaseId('0.1.0', 1));
    v2 = await fixture.releaseImage(releaseId('0.2.0', 2), { '002_rule_owner.sql': MIGRATION_002 });
    v3 = await fixture.releaseImage(releaseId('0.3.0', 3));
  });

  after(async () => {
    await load?.stop();
    const results = join(REPO_ROOT, 'results');
    mkdirSync(results, { recursive: true });
    writeFileSync(join(results, 'e2e-release-timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
    await fixture?.tearDown();
  });

  it('releases v1 onto an empty stack: migrated, gated and served through Caddy', async () => {
    const spec = fixture.specFor(v1);
    assert.ok(spec.image.releaseId.startsWith(`${v1.releaseId}+cfg.`), 'the release id is the image tag plus a digest of its config');
    const outcome = await fixture.release(spec);
    timings.v1 = outcome.phases;
    assert.equal(outcome.liveRelease, spec.image.releaseId);
    assert.equal(outcome.previousRelease, null);
    assert.deepEqual(outcome.migrated, ['001_initial']);
    const readyz = (await (await fetch(`${spec.proxy.publicHttpUrl}/readyz`)).json()) as { release: string };
    assert.equal(readyz.release, spec.image.releaseId);
  });

  it('releases v2 with a new migration under 100+ req/s of HTTP and gRPC with zero failed requests, and in-flight requests finish', async () => {
    const spec = fixture.specFor(v2);
    const apiKey = (await fixture.runApp(['api-keys', 'create', '--name', 'load'])).trim();
    load = startLoad({ httpUrl: spec.proxy.publicHttpUrl, grpcAddress: spec.proxy.publicGrpcAddress, apiKey }, { ratePerSecond: 120 });
    const slow = slowTraffic(spec.proxy.publicHttpUrl, 40, 2_000);
    let outcome: ReleaseOutcome;
    try {
      outcome = await fixture.release(spec);
    } finally {
      const statuses = await slow.stop();
      timings.slowRequests = statuses.length;
      // The app answers a login without a CSRF token with 403: a complete answer from a slot.
      assert.ok(statuses.length >= 50, `only ${statuses.length} slow requests ran`);
      assert.deepEqual(statuses.filter((status) => status !== 403), [], 'every slow request in flight across the switch completed');
    }
    timings.v2 = outcome.phases;
    assert.equal(outcome.liveRelease, spec.image.releaseId);
    assert.equal(outcome.previousRelease, fixture.specFor(v1).image.releaseId);
    assert.deepEqual(outcome.migrated, ['002_rule_owner']);
    assert.ok(outcome.snapshot, 'a snapshot was taken before migrating');
    const verification = await verifySnapshot(testEngine, spec, outcome.snapshot);
    assert.equal(verification.ok, true, verification.problems.join('; '));
    const column = await testEngine.run([
      'exec', spec.database.container, 'psql', '-U', spec.database.user, '-d', spec.database.name, '-tAc',
      "SELECT count(*) FROM information_schema.columns WHERE table_name = 'rules' AND column_name = 'owner'",
    ]);
    assert.equal(column.trim(), '1');
  });

  it('a v3 that never becomes ready fails the gate and v2 keeps serving, still with zero failed requests', async () => {
    // A valid config whose sensor-api serves health on another port than the proxy dials: it
    // runs, but never answers /readyz where traffic would reach it.
    const spec = fixture.specFor(v3, { TK_SENSOR_API_HTTP_PORT: '9999' });
    await assert.rejects(
      fixture.release(spec),
      (error: Error) => /health gate|never|did not/i.test(error.message) && error.message.includes('readyz'),
    );
    const state = await readProxyState(testEngine, spec);
    assert.equal(state.routing.live?.releaseId, fixture.specFor(v2).image.releaseId);
    assert.match(fixture.log(), /"event":"release.failed"/);
  });

  it('rolls back to v1 from its kept image, warns that migrations ran since, and then back to the warm v2 in seconds', async () => {
    const spec = fixture.specFor(v1);
    // As `pulumi up` runs it with release.rollbackTo set (TK_ROLLBACK_TO).
    const pin = { rollback: { to: v1.releaseId, pinned: true } };
    const back = await fixture.release(spec, pin);
    timings.rollbackToV1 = back.phases;
    assert.equal(back.liveRelease, v1.releaseId);
    assert.ok(back.migrationWarning?.includes('pg_restore'), 'the warning says how to restore the snapshot');
    // The next `pulumi up` with the same pin changes nothing and reports the same truth.
    const again = await fixture.release(spec, pin);
    assert.deepEqual(
      { liveSlot: again.liveSlot, liveRelease: again.liveRelease, previousRelease: again.previousRelease },
      { liveSlot: back.liveSlot, liveRelease: v1.releaseId, previousRelease: fixture.specFor(v2).image.releaseId },
    );
    assert.equal(again.phases.switch, undefined, 'nothing was switched');

    const started = performance.now();
    const warm = await fixture.release(spec, { rollback: {} });
    const seconds = (performance.now() - started) / 1000;
    timings.warmRollbackSeconds = seconds;
    timings.warmRollback = warm.phases;
    assert.equal(warm.liveRelease, fixture.specFor(v2).image.releaseId);
    assert.ok(seconds < 30, `the warm rollback took ${seconds.toFixed(1)} s`);
  });

  it('served every request of the run, and the secret canary appears in no log, output, page or image', async () => {
    const report = await load!.stop();
    load = undefined;
    timings.load = report;
    assert.ok(report.rate >= 100, `load ran at ${report.rate.toFixed(0)} req/s`);
    assert.deepEqual(report.http.errors, []);
    assert.deepEqual(report.grpc.errors, []);
    assert.equal(report.http.failed + report.grpc.failed, 0);
    assert.ok(report.releasesSeen.includes(fixture.specFor(v1).image.releaseId), report.releasesSeen.join(', '));
    assert.ok(report.releasesSeen.includes(fixture.specFor(v2).image.releaseId), report.releasesSeen.join(', '));

    const spec = fixture.specFor(v2);
    const page = await (await fetch(`${spec.proxy.publicHttpUrl}/login`)).text();
    const images = [v1.ref, v2.ref, v3.ref];
    const history = await testEngine.run(['history', '--no-trunc', ...images.slice(0, 1)]);
    const inspect = await testEngine.run(['image', 'inspect', ...images]);
    for (const [where, text] of Object.entries({ log: fixture.log(), page, history, inspect, timings: JSON.stringify(timings) })) {
      assert.ok(!text.includes(fixture.canary), `the canary leaked into the ${where}`);
    }
  });

  it('destroy of an ephemeral stack copies a final snapshot out and removes both slots', async () => {
    const spec = fixture.specFor(v2);
    const cwd = mkdtempSync(join(tmpdir(), 'tk-destroy-'));
    try {
      // Started from a temp folder: the launcher finds the toolkit (and its node_modules) from its own path.
      await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'launcher/release-cli.mjs'), 'destroy'], {
        cwd,
        env: { ...process.env, ...fixture.secrets, TK_RELEASE_PLAN: JSON.stringify(planOfDockerSpec(spec)) },
      });
      const copied = readdirSync(join(cwd, '.trapperkeeper/final-snapshots', spec.stack));
      assert.equal(copied.filter((name) => name.endsWith('.dump')).length, 1);
      assert.equal(copied.filter((name) => name.endsWith('.dump.sha256')).length, 1);
      const slots = await testEngine.run(['ps', '-aq', '--filter', `label=tk.stack=${spec.stack}`, '--filter', 'label=tk.slot']);
      assert.equal(slots.trim(), '');
      assert.ok(existsSync(join(cwd, '.trapperkeeper')));
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
