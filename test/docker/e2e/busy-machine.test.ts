import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ReleaseImage } from '../../../components/release/plan.js';
import { burnCpus } from '../../support/cpu-burner.js';
import { requireDocker, uniqueName } from '../../support/images.js';
import { startLoad, type RunningLoad } from '../../support/load.js';
import { createReleaseFixture, releaseId, type ReleaseFixture } from '../../support/release-fixture.js';

// On a busy 2-core CI machine an earlier version saw /readyz answer 503 through Caddy because one
// database ping took over a second. Readiness must reflect whether the service can serve, and a
// test must not blame the system for what its own starved probe missed.
describe('a release while other processes keep every core busy', { timeout: 900_000 }, () => {
  let fixture: ReleaseFixture;
  let v1: ReleaseImage;
  let v2: ReleaseImage;
  let load: RunningLoad | undefined;
  let burners: { stop(): void } | undefined;

  before(async () => {
    await requireDocker();
    fixture = await createReleaseFixture(uniqueName('tkbusy'));
    v1 = await fixture.releaseImage(releaseId('0.1.0', 1));
    v2 = await fixture.releaseImage(releaseId('0.2.0', 2), { '002_busy.sql': 'ALTER TABLE rules ADD COLUMN busy_note VARCHAR(64) NULL;\n' });
    await fixture.release(fixture.specFor(v1));
  });

  after(async () => {
    burners?.stop();
    await load?.stop();
    await fixture?.tearDown();
  });

  it('a release with a migration and a rollback under 120 req/s: no request fails because of the system', async (t) => {
    const spec = fixture.specFor(v2);
    const apiKey = (await fixture.runApp(['api-keys', 'create', '--name', 'busy'])).trim();
    burners = burnCpus();
    load = startLoad({ httpUrl: spec.proxy.publicHttpUrl, grpcAddress: spec.proxy.publicGrpcAddress, apiKey }, { ratePerSecond: 120 });
    const released = await fixture.release(spec);
    const rolledBack = await fixture.release(spec, { rollback: {} });
    const report = await load.stop();
    load = undefined;
    burners.stop();
    burners = undefined;

    const requests = report.http.ok + report.grpc.ok + report.http.failed + report.grpc.failed + report.http.probeFailed + report.grpc.probeFailed;
    const probeFailed = report.http.probeFailed + report.grpc.probeFailed;
    t.diagnostic(
      `${requests} requests at ${report.rate.toFixed(0)} req/s over ${report.seconds.toFixed(0)} s with every core busy; ` +
        `release ${Object.values(released.phases).reduce((a, b) => a + b, 0)} ms, rollback ${Object.values(rolledBack.phases).reduce((a, b) => a + b, 0)} ms; ` +
        `probe-side timeouts (this process starved, not counted as failures): ${probeFailed}`,
    );
    assert.equal(released.liveRelease, spec.image.releaseId);
    assert.equal(rolledBack.liveRelease, fixture.specFor(v1).image.releaseId);
    assert.deepEqual([...report.http.errors, ...report.grpc.errors], [], 'the system failed requests');
    assert.equal(report.http.failed + report.grpc.failed, 0);
    assert.ok(probeFailed <= requests * 0.01, `the probe itself missed ${probeFailed} of ${requests} requests: the machine starved the test, not the system (${report.http.probeErrors[0] ?? report.grpc.probeErrors[0]})`);
    assert.ok(report.releasesSeen.includes(spec.image.releaseId), report.releasesSeen.join(', '));
  });
});
