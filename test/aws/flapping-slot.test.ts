import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import { DeployError } from '../../components/errors.js';
import { createDeployEvents } from '../../components/events/deploy-events.js';
import { runRelease } from '../../components/release/pipeline.js';
import type { ReleasePlan } from '../../components/release/plan.js';
import { startAwsTestBed, watchPublicWeb, type AwsTestBed } from './data-plane/test-bed.js';

interface Logged {
  event: string;
  at: number;
  fields: Record<string, unknown>;
}

/** The release's events as they are written, with when; `on(event)` resolves when one is. */
function eventLog() {
  const lines: Logged[] = [];
  const waiting: Array<{ event: string; resolve: () => void }> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        const fields = JSON.parse(line) as Record<string, unknown>;
        lines.push({ event: String(fields.event), at: Date.now(), fields });
        for (const w of waiting.filter((w) => w.event === fields.event)) w.resolve();
      }
      callback();
    },
  });
  return {
    events: createDeployEvents({ format: 'json', destination, jsonFile: '' }),
    lines,
    on: (event: string) => new Promise<void>((resolve) => waiting.push({ event, resolve })),
  };
}


/** A failed release removes the slot's tasks while they may flap: a container gone is no error here. */
const docker = (...args: string[]) => {
  try {
    execFileSync('docker', args, { stdio: 'ignore' });
  } catch {
    // removed meanwhile
  }
};

/**
 * Once the green slot started (ECS counts its tasks healthy), its web UI tasks flap: frozen
 * (docker pause) for `downMs`, long enough for the load balancer's checks (2 failures, 2 s
 * timeout each) to mark them unhealthy, then answering for `upMs`, `cycles` times (0: until
 * aborted). The web UI's target group is healthy again 2 passing checks after each thaw.
 */
function flapGreenWebUi(bed: AwsTestBed, started: Promise<void>, signal: AbortSignal, options: { cycles: number }): Promise<{ cycles: number; lastUp: number }> {
  const { upMs, downMs } = FLAPPING;
  return started.then(async () => {
    const containers = bed.dataPlane.services.containers(bed.target.services.green['web-ui']);
    assert.ok(containers.length > 0, 'the green web UI runs tasks');
    let cycles = 0;
    let lastUp = Date.now();
    while (!signal.aborted && (options.cycles === 0 || cycles < options.cycles)) {
      docker('pause', ...containers);
      await sleep(downMs);
      // The tasks answer as soon as they thaw, before the docker CLI returns.
      lastUp = Date.now();
      docker('unpause', ...containers);
      cycles += 1;
      await sleep(upMs);
    }
    return { cycles, lastUp };
  });
}

const FLAPPING = { upMs: 1_200, downMs: 5_000 };
// 10 passing rounds, 300 ms apart from the start of one to the next (after a round that waited
// for a frozen task, the next follows at once), need 2.4 s of health; the slot never has more than 1.2 s.
const STREAK = { successes: 10, intervalMs: 300 };

// The AWS backend on moto with the data plane stand-in (test/aws/data-plane/): tasks on Docker,
// the load balancer's health checks of them, and its listeners as TLS proxies on 127.0.0.1.
describe('a slot whose targets flap (healthy, then not), on the AWS data plane stand-in (moto + Docker)', { timeout: 600_000 }, () => {
  let bed: AwsTestBed;
  let live: ReleasePlan;
  /** What a test leaves running when an assertion throws early: its user watcher, its flapping. */
  const leftovers: Array<() => unknown> = [];
  afterEach(async () => {
    for (const stop of leftovers.splice(0)) await stop();
  });
  before(async () => {
    bed = await startAwsTestBed({ database: `tk_aws_flapping_${process.pid}` });
    live = bed.plan('00000001');
    await runRelease(live, bed.backend(live), { events: eventLog().events, secrets: {} });
  });
  after(async () => {
    await bed?.tearDown();
  });

  it('a slot that keeps flapping never passes the gate: each failure resets the streak, the release fails, and every user request reaches the live slot', async () => {
    const plan = bed.plan('00000002', { appEnv: { TK_LOG_LEVEL: 'debug' }, gate: { ...STREAK, timeoutMs: 16_000 } });
    const log = eventLog();
    const stop = new AbortController();
    leftovers.push(() => stop.abort());
    const flapping = flapGreenWebUi(bed, log.on('slot.started'), stop.signal, { cycles: 0 });
    flapping.catch(() => undefined);
    const users = watchPublicWeb(bed);
    leftovers.push(() => users.stop());
    const failure = await runRelease(plan, bed.backend(plan), { events: log.events, secrets: {} }).then(
      () => assert.fail('a flapping slot passed the gate'),
      (error: unknown) => error,
    );
    stop.abort();
    const flapped = await flapping;
    const seen = await users.stop();
    assert.ok(flapped.cycles >= 2, `the slot flapped ${flapped.cycles} times`);
    assert.ok(failure instanceof DeployError, String(failure));
    const streak = /best streak (\d+) in (\d+) rounds/.exec(failure.message);
    assert.ok(streak, failure.message);
    assert.ok(Number(streak[1]) >= 1 && Number(streak[1]) < STREAK.successes, `it passed some rounds, never ${STREAK.successes} in a row: ${streak[0]}`);
    // The load balancer itself saw the targets go unhealthy, not only the gate's own probes.
    assert.match(failure.message, /load balancer health of tk-test-green-web: tk-test-green-web: 0 of 1 targets healthy: 10\.0\.\d+\.\d+:8080 unhealthy \(Target\.Timeout/);
    assert.match(failure.message, /staging web-ui \/readyz \([^)]*\): no HTTP response/);

    assert.deepEqual((await bed.backend(plan).routing.read()).live, { slot: 'blue', releaseId: live.image.releaseId });
    assert.equal(await bed.backend(plan).slots.describe('green'), undefined, 'the failed slot is removed');
    const other = seen.filter((s) => !('status' in s) || s.status !== 200 || s.release !== live.image.releaseId);
    assert.ok(seen.length > 50, `users kept asking throughout: ${seen.length} requests`);
    assert.deepEqual(other, [], `every request of users got the live release (${seen.length} requests)`);
    assert.deepEqual(bed.dataPlane.services.errors, []);
  });

  it('a slot that flaps, then settles, goes live only after a full streak of passing rounds once it settled', async () => {
    const plan = bed.plan('00000003', { appEnv: { TK_LOG_LEVEL: 'warn' }, gate: { ...STREAK, timeoutMs: 40_000 } });
    const log = eventLog();
    const stop = new AbortController();
    leftovers.push(() => stop.abort());
    const flapping = flapGreenWebUi(bed, log.on('slot.started'), stop.signal, { cycles: 2 });
    flapping.catch(() => undefined);
    const outcome = await runRelease(plan, bed.backend(plan), { events: log.events, secrets: {} }).finally(() => stop.abort());
    const flapped = await flapping;
    assert.equal(flapped.cycles, 2);
    assert.deepEqual([outcome.liveSlot, outcome.liveRelease], ['green', plan.image.releaseId]);
    const passed = log.lines.find((l) => l.event === 'gate.passed');
    assert.ok(passed, log.lines.map((l) => l.event).join(', '));
    assert.ok(Number(passed.fields.rounds) > STREAK.successes, `failing rounds reset the streak: ${String(passed.fields.rounds)} rounds`);
    assert.ok(passed.at - flapped.lastUp >= (STREAK.successes - 2) * STREAK.intervalMs - 50, `passed ${passed.at - flapped.lastUp} ms after the slot settled`);
  });
});
