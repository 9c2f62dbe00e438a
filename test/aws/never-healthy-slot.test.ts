import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { runHealthGate } from '../../components/health-gate/run-health-gate.js';
import { createDeployEvents } from '../../components/events/deploy-events.js';
import { runRelease } from '../../components/release/pipeline.js';
import { APP_SERVICES } from '../../components/release/plan.js';
import { templateRegistration } from './ecs-stack.js';
import { startAwsTestBed, watchPublicWeb, type AwsTestBed, type PublicAnswer } from './data-plane/test-bed.js';

const events = () => createDeployEvents({ format: 'json', destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }), jsonFile: '' });


// The AWS backend on moto with the data plane stand-in (test/aws/data-plane/): tasks on Docker,
// the load balancer's health checks, and its listeners as TLS proxies on 127.0.0.1.
describe('a slot whose tasks never become healthy, on the AWS data plane stand-in (moto + Docker)', { timeout: 600_000 }, () => {
  let bed: AwsTestBed;
  before(async () => {
    bed = await startAwsTestBed({ database: `tk_aws_unhealthy_${process.pid}` });
  });
  after(async () => {
    await bed?.tearDown();
  });

  it('a first release goes live and users reach it through the public listeners', async () => {
    const plan = bed.plan('00000001');
    const outcome = await runRelease(plan, bed.backend(plan), { events: events(), secrets: {} });
    assert.deepEqual([outcome.liveSlot, outcome.liveRelease], ['blue', plan.image.releaseId]);
    const seen = await (async () => {
      const watcher = watchPublicWeb(bed);
      await new Promise((resolve) => setTimeout(resolve, 500));
      return watcher.stop();
    })();
    assert.ok(seen.length > 0 && seen.every((s) => 'status' in s && s.status === 200 && s.release === plan.image.releaseId), JSON.stringify(seen));
  });

  it('fails the gate and the release, while the live slot keeps serving every request through the load balancer', async () => {
    const live = bed.plan('00000001');
    const plan = bed.plan('00000002', { appEnv: { TK_LOG_LEVEL: 'debug' } });
    // A stack whose green services cannot reach their database: the app exits at start, ECS (here
    // the stand-in) replaces the task, and no task of the slot ever passes the health checks.
    for (const service of APP_SERVICES) {
      await bed.clients.ecs.send(
        new RegisterTaskDefinitionCommand(
          templateRegistration(bed.target, 'test', 'green', service, { databaseUrl: bed.databaseUrl.replace(/\/(tk_[a-z_0-9]+)\?/, '/$1_missing?'), secretArns: bed.declared.secretArns }),
        ),
      );
    }
    const backend = bed.backend(plan, bed.clients, { slots: { pollMs: 100, rolloutTimeoutMs: 20_000 } });
    const watcher = watchPublicWeb(bed);
    const seen: PublicAnswer[] = [];
    try {
      // The slot's start waits, as ECS's deployment does, for its tasks to be healthy in their target groups.
      await assert.rejects(backend.slots.start(plan, 'green', {}), (error: Error) => {
        assert.match(error.message, /The green slot did not reach a steady state within 20 s/);
        assert.match(error.message, /tk-test-green-web-ui: rollout IN_PROGRESS; .*\d+ tasks failed to start/);
        return true;
      });
      // The gate sees what the load balancer sees: every target of the slot unhealthy, with the codes it got.
      const set = await backend.gate.staging(plan, 'green');
      try {
        await assert.rejects(runHealthGate(set.checks, { ...plan.gate, timeoutMs: 3_000, subject: 'the green slot', fix: '' }), (error: Error) => {
          assert.match(error.message, /load balancer health of tk-test-green-web: tk-test-green-web: (no target registered yet \(1 expected\)|0 of 1 targets healthy: 10\.0\.\d+\.\d+:8080 (initial|unhealthy))/);
          assert.match(error.message, /load balancer health of tk-test-green-grpc: tk-test-green-grpc: (no target registered yet \(2 expected\)|0 of 2 targets healthy)/);
          return true;
        });
      } finally {
        await set.close();
      }
      await backend.slots.remove('green');
      // The whole release: it fails, removes the slot it started, and leaves routing as it was.
      await assert.rejects(runRelease(plan, backend, { events: events(), secrets: {} }), /The green slot did not reach a steady state/);
      assert.deepEqual((await backend.routing.read()).live, { slot: 'blue', releaseId: live.image.releaseId });
      assert.equal(await backend.slots.describe('green'), undefined);
    } finally {
      seen.push(...(await watcher.stop()));
    }
    const other = seen.filter((s) => !('status' in s) || s.status !== 200 || s.release !== live.image.releaseId);
    assert.ok(seen.length > 50, `users kept asking throughout: ${seen.length} requests`);
    assert.deepEqual(other, [], `every request of users got the live release (${seen.length} requests)`);
    assert.deepEqual(bed.dataPlane.services.errors, []);
  });
});
