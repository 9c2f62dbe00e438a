import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeployError } from '../../../components/errors.js';
import { grpcHealthCheck } from '../../../components/health-gate/index.js';
import {
  loadCaddyConfig,
  PROXY_PORTS,
  readProxyState,
  renderCaddyConfig,
  stageSlot,
  switchTraffic,
  type RoutedRelease,
} from '../../../providers/docker/proxy/index.js';
import type { ReleaseSpec } from '../../../providers/docker/spec.js';
import {
  assertSlotRunsRelease,
  inspectSlot,
  resolveImageId,
  startParkedSlot,
  startSlot,
} from '../../../providers/docker/slots/index.js';
import { gateSlot, verifyOrRestore, verifyPublic } from '../../../components/release/promote.js';
import type { Slot } from '../../../components/release/plan.js';
import type { SwitchResult } from '../../../components/release/ports.js';
import { dockerReleaseBackend } from '../../../providers/docker/release-backend.js';
import { planOfDockerSpec } from '../../../providers/docker/release-plan.js';
import { testEngine as engine } from '../../support/images.js';
import { createTrafficEnvironment, type TrafficEnvironment } from './environment.js';
import { startLoad } from './load.js';

async function publicReadyz(env: TrafficEnvironment, path = '/readyz'): Promise<{ status: number; release: string | null; body: string }> {
  const response = await fetch(`http://${env.ports.publicHttp}${path}`, { signal: AbortSignal.timeout(5000) });
  const body = await response.text();
  let release: string | null = null;
  try {
    release = (JSON.parse(body) as { release?: string }).release ?? null;
  } catch {
    release = null;
  }
  return { status: response.status, release, body };
}

/** The pipeline's own gate, verification and drain (components/release/promote.ts) on the Docker backend. */
function backendOf(spec: ReleaseSpec) {
  return dockerReleaseBackend(engine, planOfDockerSpec(spec));
}
const runStagingGate = (spec: ReleaseSpec, slot: Slot) => gateSlot(backendOf(spec), planOfDockerSpec(spec), slot);
const verifySwitchOrRestore = (spec: ReleaseSpec, switched: SwitchResult, overrides = {}) =>
  verifyOrRestore(backendOf(spec), planOfDockerSpec(spec), switched, overrides);
const verifyPublicEndpoint = (spec: ReleaseSpec, _intended: RoutedRelease, overrides = {}) => verifyPublic(backendOf(spec), planOfDockerSpec(spec), overrides);
const drainAfterSwitch = (spec: ReleaseSpec, switched: SwitchResult) => backendOf(spec).slots.park(switched.previous.live!.slot, 'stopped');
const readLiveSlot = async (spec: ReleaseSpec) => (await readProxyState(engine, spec)).routing.live;

const blueR1: RoutedRelease = { slot: 'blue', releaseId: 'r1' };

describe('blue-green traffic through Caddy (real Docker)', () => {
  let env: TrafficEnvironment;
  let r1: ReleaseSpec;
  let r2: ReleaseSpec;

  before(async () => {
    env = await createTrafficEnvironment();
    r1 = await env.release('r1');
    r2 = await env.release('r2');
  });

  after(async () => {
    await env?.cleanup();
  });

  it('Caddy starts from the bootstrap config: no live release (503) and readLiveSlot reads none', async () => {
    let answer = { status: 0, release: null as string | null, body: '' };
    for (let i = 0; i < 50 && answer.status !== 503; i++) {
      answer = await publicReadyz(env).catch(() => answer);
      if (answer.status !== 503) await sleep(100);
    }
    assert.equal(answer.status, 503);
    assert.equal(answer.body, 'no live release\n');
    const state = await readProxyState(engine, r1);
    assert.deepEqual(state.routing, { live: null, staging: null });
    assert.equal(state.configCurrent, true, 'the bootstrap config is the release config: no reload needed');
    const grpc = grpcHealthCheck('public', env.ports.publicGrpc);
    try {
      assert.match((await grpc.run(3000)).detail, /gRPC UNAVAILABLE: .*503/);
    } finally {
      grpc.close();
    }
  });

  it('a started slot runs the release image id; a healthy slot passes the gate through the staging listeners', async (t) => {
    const started = await startSlot(engine, r1, 'blue', { secrets: env.secrets });
    assert.equal(started.imageId, await resolveImageId(engine, r1.image.ref));
    assert.deepEqual(started.containers.map((c) => c.exists && [c.name, c.imageId, c.releaseId, c.running]), [
      [`${env.name}-blue-sensor-api`, started.imageId, 'r1', true],
      [`${env.name}-blue-web-ui`, started.imageId, 'r1', true],
    ]);
    await stageSlot(engine, r1, { live: null, slot: 'blue' });
    const report = await runStagingGate(r1, 'blue');
    assert.equal(report.state.consecutive, r1.gate.successes);
    t.diagnostic(`gate passed in ${report.durationMs} ms (${report.state.rounds} rounds of ${report.roundDurationsMs.join(', ')} ms, probe container start included)`);
    // Public listeners still have no live release: staging never leaks to users.
    assert.equal((await publicReadyz(env)).status, 503);
  });

  it('the gate needs no host-published staging port: Caddy publishes none, and the gate still passes through Caddy', async (t) => {
    const published = await engine.run(['port', env.caddy]);
    assert.match(published, new RegExp(`^${PROXY_PORTS.publicHttp}/tcp -> 127\\.0\\.0\\.1:`, 'm'));
    assert.doesNotMatch(published, new RegExp(`^(${PROXY_PORTS.stagingHttp}|${PROXY_PORTS.stagingGrpc})/tcp`, 'm'));
    const report = await runStagingGate(r1, 'blue');
    assert.equal(report.state.consecutive, r1.gate.successes);
    // The probe container is gone once the gate is over.
    assert.deepEqual(await probeContainers(), []);
    const mean = Math.round(report.roundDurationsMs.reduce((a, b) => a + b, 0) / report.roundDurationsMs.length);
    t.diagnostic(`probe rounds (3 checks each, in the stack network): ${report.roundDurationsMs.join(', ')} ms (mean ${mean} ms); gate ${report.durationMs} ms`);
  });

  it('the first switch sends public HTTP, the sensor API health path and gRPC to the live slot, verified', async (t) => {
    const switched = await switchTraffic(engine, r1, 'blue', { expectedLive: null });
    assert.deepEqual(switched.routing, { live: blueR1, staging: null });
    const verified = await verifySwitchOrRestore(r1, switched);
    assert.equal(verified.verified, true);
    assert.deepEqual(await readLiveSlot(r1), blueR1);
    assert.equal((await publicReadyz(env, '/__tk/sensor-api/readyz')).release, 'r1');
    t.diagnostic(`switch ${switched.durationMs} ms, verified in ${verified.durationMs} ms`);
  });

  it('a switch under load moves HTTP and gRPC together: zero failed requests, in-flight ones finish, no new request reaches the old slot', async (t) => {
    await startSlot(engine, r2, 'green', { secrets: env.secrets });
    await stageSlot(engine, r2, { live: blueR1, slot: 'green' });
    await runStagingGate(r2, 'green');

    // A gRPC channel and keep-alive HTTP connections opened before the switch.
    const heldGrpc = grpcHealthCheck('held channel', env.ports.publicGrpc);
    assert.equal((await heldGrpc.run(3000)).ok, true);
    const load = startLoad({
      httpUrls: [`http://${env.ports.publicHttp}/readyz`, `http://${env.ports.publicHttp}/__tk/sensor-api/readyz`],
      httpWorkers: 20,
      grpcAddress: env.ports.publicGrpc,
      grpcWorkers: 4,
    });
    await sleep(800);
    const switchStarted = performance.now();
    const switched = await switchTraffic(engine, r2, 'green', { expectedLive: blueR1 });
    const switchDone = performance.now();
    await sleep(1000);
    const verified = await verifySwitchOrRestore(r2, switched);
    // The old slot is drained and parked while the load still runs.
    const drained = await drainAfterSwitch(r2, switched);
    await sleep(500);
    const samples = await load.stop();

    const failures = samples.filter((s) => !s.ok);
    assert.deepEqual(failures.slice(0, 5).map((s) => `${s.kind} ${s.detail}`), [], `${failures.length} of ${samples.length} requests failed`);
    const http = samples.filter((s) => s.kind === 'http');
    const inFlight = samples.filter((s) => s.startedAt < switchDone && s.endedAt > switchStarted);
    const afterSwitch = http.filter((s) => s.startedAt > switchDone);
    assert.ok(http.some((s) => s.endedAt < switchStarted && s.release === 'r1'), 'the load reached the old slot before the switch');
    assert.ok(afterSwitch.length > 100, `${afterSwitch.length} HTTP requests after the switch`);
    assert.deepEqual([...new Set(afterSwitch.map((s) => s.release))], ['r2'], 'every request started after the switch reached the new slot');
    assert.ok(samples.filter((s) => s.kind === 'grpc' && s.startedAt > switchDone).length > 20);

    assert.deepEqual(switched.routing, { live: { slot: 'green', releaseId: 'r2' }, staging: blueR1 });
    assert.equal(verified.verified, true);
    assert.equal(drained?.slot, 'blue');
    assert.equal(drained?.clean, true, JSON.stringify(drained));
    // The channel opened before the switch now reaches green: blue is stopped.
    assert.equal((await heldGrpc.run(3000)).ok, true);
    heldGrpc.close();
    t.diagnostic(
      `switch ${switched.durationMs} ms under load; ${samples.length} requests (${inFlight.length} in flight during the switch), 0 failed; ` +
        `verified in ${verified.durationMs} ms; old slot drained: ${drained.details.join(', ')}`,
    );
  });

  it('the drained old slot is parked: containers and image kept, stopped cleanly', async () => {
    const blue = await inspectSlot(engine, env.name, 'blue');
    for (const container of blue) {
      assert.ok(container.exists, container.name);
      assert.equal(container.running, false);
      assert.equal(container.exitCode, 0);
      assert.equal(container.releaseId, 'r1');
    }
    assert.deepEqual(await readLiveSlot(r1), { slot: 'green', releaseId: 'r2' });
  });

  it('rollback by starting the parked slot serves the previous release again in seconds, verified', async (t) => {
    const started = performance.now();
    await startParkedSlot(engine, r1, 'blue');
    // After the switch the staging listeners already point at the parked slot (the rollback target).
    const gate = await runStagingGate(r1, 'blue');
    const switched = await switchTraffic(engine, r1, 'blue', { expectedLive: { slot: 'green', releaseId: 'r2' } });
    const verified = await verifySwitchOrRestore(r1, switched);
    const rollbackMs = Math.round(performance.now() - started);
    assert.deepEqual(await readLiveSlot(r1), blueR1);
    assert.equal((await publicReadyz(env)).release, 'r1');
    assert.ok(rollbackMs < 20_000, `rollback took ${rollbackMs} ms`);
    t.diagnostic(`rollback (start parked + gate + switch + verify) ${rollbackMs} ms: gate ${gate.durationMs} ms, switch ${switched.durationMs} ms, verify ${verified.durationMs} ms`);
    const drained = await drainAfterSwitch(r1, switched);
    assert.equal(drained?.slot, 'green');
  });

  it('startSlot replaces a leftover container of another image, and a slot running the wrong image id is detected', async () => {
    const r3 = await env.release('r3');
    // green holds parked r2 containers; starting r3 there must recreate them from the r3 image.
    const started = await startSlot(engine, r3, 'green', { secrets: env.secrets });
    const r3Image = await resolveImageId(engine, r3.image.ref);
    const r2Image = await resolveImageId(engine, r2.image.ref);
    assert.notEqual(r3Image, r2Image);
    assert.ok(started.containers.every((c) => c.exists && c.imageId === r3Image));
    await assert.rejects(assertSlotRunsRelease(engine, r2, 'green', r2Image), (error: unknown) => {
      assert.ok(error instanceof DeployError);
      assert.match(error.message, new RegExp(`${env.name}-green-web-ui: runs image ${r3Image}, not the release image ${r2Image}`));
      assert.match(error.message, /labelled release r3, not r2/);
      return true;
    });
  });

  it('the gate rejects a ready slot that reports another release (a stale container never passes)', async () => {
    const r4 = await env.release('r4');
    // Staging points at green, which runs r3; the gate is for r4.
    await stageSlot(engine, r3Spec(), { live: blueR1, slot: 'green' });
    await assert.rejects(runStagingGate({ ...r4, gate: { successes: 2, intervalMs: 200, timeoutMs: 1500 } }, 'green'), (error: unknown) => {
      assert.ok(error instanceof DeployError);
      assert.match(error.message, /web-ui \/readyz .*: HTTP 200 but release "r3", not r4/);
      return true;
    });
  });

  it('the gate times out on a slot that never becomes ready, reports each check\'s last failure, and the live slot keeps serving', async () => {
    // A database that accepts connections and never answers: the app waits in start-up, never listening.
    const tarpit = await env.run('tarpit', ['--entrypoint', 'node', env.appImage, '-e', "require('net').createServer(() => {}).listen(5432)"]);
    const r5 = await env.release('r5', {
      gate: { successes: 3, intervalMs: 200, timeoutMs: 3000 },
      appEnv: { TK_LOG_LEVEL: 'warn', TK_DATABASE_CONNECTION_TIMEOUT_MS: '60000' },
    });
    await startSlot(engine, r5, 'green', { secrets: { ...env.secrets, TK_DATABASE_URL: `postgres://tk:unused@${tarpit}:5432/tk` } });
    await stageSlot(engine, r5, { live: blueR1, slot: 'green' });
    await assert.rejects(runStagingGate(r5, 'green'), (error: unknown) => {
      assert.ok(error instanceof DeployError);
      assert.match(error.message, /^The green slot \(release r5\) did not pass the health gate: 3 consecutive successes .* within 3000 ms/);
      // Each check names the in-network address it probed and quotes Caddy's last answer there.
      assert.ok(error.message.includes(`- web-ui /readyz (http://${env.caddy}:8081/__tk/web-ui/readyz): HTTP 502`), error.message);
      assert.ok(error.message.includes(`- sensor-api /readyz (http://${env.caddy}:8081/__tk/sensor-api/readyz): HTTP 502`), error.message);
      assert.ok(error.message.includes(`- sensor-api gRPC health (${env.caddy}:50052): gRPC UNAVAILABLE`), error.message);
      assert.match(error.fix ?? '', new RegExp(`docker logs ${env.name}-green-web-ui`));
      return true;
    });
    assert.equal((await publicReadyz(env)).release, 'r1');
    assert.deepEqual(await readLiveSlot(r1), blueR1);
    assert.deepEqual(await probeContainers(), [], 'a failed gate leaves no probe container behind');
  });

  it('Caddy rejects an invalid config load and keeps the old config serving', async () => {
    const before = await readProxyState(engine, r1);
    const invalid = renderCaddyConfig({ prefix: env.name });
    invalid.apps.http.servers['tk-public-http']!.routes.unshift({ handle: [{ handler: 'no_such_handler' }] });
    await assert.rejects(loadCaddyConfig(engine, env.caddy, invalid), (error: unknown) => {
      assert.ok(error instanceof DeployError);
      assert.match(error.message, /rejected the new proxy config and keeps serving the previous one:[\s\S]*no_such_handler/);
      return true;
    });
    assert.equal((await publicReadyz(env)).release, 'r1');
    assert.deepEqual((await readProxyState(engine, r1)).config, before.config);
  });

  it('a switch refuses to run when the live release is no longer the one the release read', async () => {
    await assert.rejects(switchTraffic(engine, r2, 'green', { expectedLive: { slot: 'green', releaseId: 'r2' } }), (error: unknown) => {
      assert.ok(error instanceof DeployError);
      assert.match(error.message, /Caddy now serves blue \(release r1\), not green \(release r2\)/);
      return true;
    });
    assert.deepEqual(await readLiveSlot(r1), blueR1);
  });

  it('verification fails when Caddy serves another release than intended, and the previous routing is restored', async () => {
    const r3 = r3Spec();
    await startSlot(engine, r3, 'green', { secrets: env.secrets });
    await stageSlot(engine, r3, { live: blueR1, slot: 'green' });
    await runStagingGate(r3, 'green');
    // The proxy is told green runs "r3-intended" while green really runs r3.
    const wrong = { ...r3, image: { ...r3.image, releaseId: 'r3-intended' } };
    const switched = await switchTraffic(engine, wrong, 'green', { expectedLive: blueR1 });
    await assert.rejects(verifySwitchOrRestore(wrong, switched, { timeoutMs: 1500 }), (error: unknown) => {
      assert.ok(error instanceof DeployError);
      assert.match(error.message, /^Traffic was switched to the green slot \(release r3-intended\) but the public endpoints did not report it/);
      assert.match(error.message, /HTTP 200 but release "r3", not r3-intended/);
      assert.match(error.message, /The previous routing is back\./);
      return true;
    });
    assert.deepEqual(await readLiveSlot(r1), blueR1);
    assert.equal((await publicReadyz(env)).release, 'r1');
  });

  it('with Caddy down, verification fails and the live slot cannot be read; restarted, Caddy resumes the last loaded config and routing', async () => {
    await engine.run(['stop', '--time', '5', env.caddy]);
    try {
      const result = await verifyPublicEndpoint(r1, blueR1, { timeoutMs: 800, intervalMs: 200 });
      assert.equal(result.verified, false);
      assert.match(result.verified ? '' : result.failure, /no HTTP response: ECONNREFUSED/);
      await assert.rejects(readLiveSlot(r1), (error: unknown) => {
        assert.ok(error instanceof DeployError);
        assert.equal(error.fix, `docker start ${env.caddy}`);
        return true;
      });
    } finally {
      await engine.run(['start', env.caddy]);
      await env.refreshPorts();
    }
    assert.deepEqual(await readLiveSlot(r1), blueR1);
    const verified = await verifyPublicEndpoint(await env.release('r1'), blueR1, { timeoutMs: 15_000 });
    assert.equal(verified.verified, true);
  });

  /** The gate's probe containers of this stack still present (running or not). */
  async function probeContainers(): Promise<string[]> {
    const out = await engine.run(['ps', '--all', '--format', '{{.Names}}', '--filter', `label=tk.stack=${env.stack}`, '--filter', 'label=tk.role=health-probe']);
    return out.split('\n').filter(Boolean);
  }

  function r3Spec(): ReleaseSpec {
    return { ...r1, image: { ...r1.image, ref: `${env.repository}:r3`, releaseId: 'r3', commit: 'r3' } };
  }
});
