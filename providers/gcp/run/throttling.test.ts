import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { DeployError } from '../../../components/errors.js';
import { startCloudRunEmulator, type CloudRunEmulator } from '../cloud-run-emulator.js';
import { CloudRunTraffic, cloudRunServiceName } from '../routing/cloud-run-traffic.js';
import { readSlots } from '../routing/traffic-plan.js';
import { cloudRunClients, type CloudRunClients } from './clients.js';
import { waitForOperation } from './operations.js';

const SERVICE = cloudRunServiceName('tk-test-123456', 'europe-west1', 'tk-test-web-ui');
// The production pauses (1 s, doubling) scaled down so a lasting throttle gives up in 3 s.
const RETRY = { initialDelayMs: 100, maxDelayMs: 800, totalMs: 3_000 };

describe('Cloud Run calls refused for quota (RESOURCE_EXHAUSTED) are retried with backoff, and a lasting refusal fails the step in bounded time (real clients, Admin API emulator)', () => {
  let emulator: CloudRunEmulator;
  let clients: CloudRunClients;
  let traffic: CloudRunTraffic;
  let revision: string;
  before(async () => {
    emulator = await startCloudRunEmulator();
    clients = cloudRunClients({ host: emulator.host, port: emulator.port }, { throttleRetry: RETRY });
    await emulator.addService(SERVICE);
    traffic = new CloudRunTraffic(clients.services, SERVICE);
    revision = emulator.createRevision(SERVICE);
  });
  after(async () => {
    await clients?.close();
    await emulator?.stop();
  });
  beforeEach(() => {
    for (const method of ['GetService', 'UpdateService', 'GetOperation']) emulator.throttle(method, 0);
    emulator.calls.length = 0;
  });

  const attempts = (method: string) => emulator.calls.filter((c) => c.method === method);

  it('stages a revision when its read and its update are each refused twice first', async () => {
    for (const method of ['GetService', 'UpdateService']) emulator.throttle(method, 2);
    const staged = await traffic.stage(await traffic.read(), 'green', revision);
    assert.equal(readSlots(staged).tagged.green, revision);
    for (const method of ['GetService', 'UpdateService']) {
      const seen = attempts(method);
      assert.deepEqual(seen.slice(0, 3).map((c) => c.throttled), [true, true, false], `${method}: two refusals, then the call that went through`);
    }
    // The write was retried, not repeated after it went through: one traffic update landed.
    assert.equal(attempts('UpdateService').filter((c) => !c.throttled).length, 1);
  });

  it('waits for a new revision while the status of its operation is refused twice', async () => {
    emulator.throttle('GetOperation', 2);
    const [service] = await clients.services.getService({ name: SERVICE });
    const [operation] = await clients.services.updateService({ service: { name: SERVICE, etag: service.etag ?? '', template: { ...service.template, revision: '' } }, updateMask: { paths: ['template'] } });
    await waitForOperation(operation.name ?? '', (name) => clients.services.checkUpdateServiceProgress(name), { what: 'the new revision', timeoutMs: 5_000, intervalMs: 50, fix: '' });
    assert.deepEqual(attempts('GetOperation').slice(0, 3).map((c) => c.throttled), [true, true, false]);
  });

  it('pauses between attempts, longer as refusals go on: a lasting refusal is retried a bounded number of times, not in a tight loop', async () => {
    emulator.throttle('GetService', Infinity);
    const started = Date.now();
    const failure = await traffic.read().then(
      () => assert.fail('a read refused every time succeeded'),
      (error: unknown) => error as Error & { code?: number },
    );
    const elapsed = Date.now() - started;
    assert.match(failure.message, /RESOURCE_EXHAUSTED/);
    assert.ok(elapsed >= RETRY.totalMs - 100 && elapsed < RETRY.totalMs + 2_000, `gave up after the retry budget: ${elapsed} ms`);
    const seen = attempts('GetService');
    // Pauses of up to 100, 200, 400, 800, 800 ... ms (random within each): about a dozen attempts
    // in 3 s at most; without backoff there would be hundreds.
    assert.ok(seen.length >= 3 && seen.length <= 25, `${seen.length} attempts`);
    assert.ok(seen.every((c) => c.throttled));
    // Random pauses, growing: some pause is longer than the first one could ever be.
    const gaps = seen.slice(1).map((c, i) => c.at - seen[i]!.at);
    assert.ok(Math.max(...gaps) > 2 * RETRY.initialDelayMs, `the pauses grew: ${gaps.join(', ')} ms`);
  });

  it('a traffic switch refused for longer than the budget fails for people (quota, what to do) and moves no user', async () => {
    const before = await traffic.read();
    emulator.throttle('UpdateService', Infinity);
    await assert.rejects(traffic.switchTo(before, 'green'), (error: unknown) => {
      assert.ok(error instanceof DeployError, String(error));
      assert.match(error.message, /quota/i);
      assert.match(error.fix ?? '', /quota/i);
      return true;
    });
    emulator.throttle('UpdateService', 0);
    assert.deepEqual((await traffic.read()).traffic, before.traffic);
  });
});
