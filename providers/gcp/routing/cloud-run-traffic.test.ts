import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ServicesClient } from '@google-cloud/run';
import { DeployError } from '../../../components/errors.js';
import { startCloudRunEmulator, type CloudRunEmulator } from '../cloud-run-emulator.js';
import { CloudRunTraffic, cloudRunServiceName } from './cloud-run-traffic.js';
import { readSlots } from './traffic-plan.js';

describe('Cloud Run traffic through the real ServicesClient (gRPC, against a local Admin API v2 emulator)', () => {
  let emulator: CloudRunEmulator;
  let client: ServicesClient;
  before(async () => {
    emulator = await startCloudRunEmulator();
    client = new ServicesClient({ apiEndpoint: emulator.host, port: emulator.port, sslCreds: grpc.credentials.createInsecure() });
  });
  after(async () => {
    await client?.close();
    await emulator?.stop();
  });

  /** One release as the GCP backend will order it: pin, create the revision, stage, switch. */
  async function release(traffic: CloudRunTraffic, name: string): Promise<string> {
    const current = await traffic.read();
    const { live } = readSlots(current);
    const idle = live?.slot === 'blue' ? 'green' : 'blue';
    const pinned = await traffic.pinServing(current);
    const revision = emulator.createRevision(name);
    assert.deepEqual(usersOn(name), live ? [live.revision] : [pinnedRevision(pinned)], 'creating the revision moved no user');
    const staged = await traffic.stage(await traffic.read(), idle, revision);
    assert.deepEqual(usersOn(name), live ? [live.revision] : [pinnedRevision(pinned)], 'staging moved no user');
    await traffic.switchTo(staged, idle);
    return revision;
  }

  function usersOn(name: string): string[] {
    const service = emulator.service(name);
    return service.traffic.filter((t) => (t.percent ?? 0) > 0).map((t) => (t.type === 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST' ? service.latestReadyRevision : t.revision!));
  }

  function pinnedRevision(snapshot: Awaited<ReturnType<CloudRunTraffic['read']>>): string {
    return readSlots(snapshot).live!.revision;
  }

  it('a release, another, a rollback, and a release after the rollback: each ends with all users on the intended revision', async () => {
    const name = cloudRunServiceName('tk-prod-123456', 'europe-west1', 'tk-prod-sensor-api');
    await emulator.addService(name);
    const traffic = new CloudRunTraffic(client, name);

    const a = await release(traffic, name);
    assert.deepEqual(usersOn(name), [a]);
    const b = await release(traffic, name);
    assert.deepEqual(usersOn(name), [b]);
    assert.deepEqual(readSlots(await traffic.read()).live, { revision: b, slot: 'green' });

    // Rollback: the parked revision still carries the blue tag; all traffic goes back to it.
    await traffic.switchTo(await traffic.read(), 'blue');
    assert.deepEqual(usersOn(name), [a]);

    // Traffic is now pinned to A by name; a release that only created a revision would not serve.
    const c = await release(traffic, name);
    assert.deepEqual(usersOn(name), [c]);
    assert.deepEqual(emulator.service(name).traffic, [
      { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: c, percent: 100, tag: 'green' },
      { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: a, percent: 0, tag: 'blue' },
    ]);
    assert.ok(emulator.updates.every((update) => update.paths.join(',') === 'traffic'), 'only traffic is ever written');
  });

  it('a failed verification puts back the traffic the switch replaced', async () => {
    const name = cloudRunServiceName('tk-prod-123456', 'europe-west1', 'tk-prod-web-ui');
    await emulator.addService(name);
    const traffic = new CloudRunTraffic(client, name);
    const a = await release(traffic, name);
    const before = await traffic.read();
    const b = emulator.createRevision(name);
    const staged = await traffic.stage(await traffic.read(), 'green', b);
    const switched = await traffic.switchTo(staged, 'green');
    assert.deepEqual(usersOn(name), [b]);
    await traffic.restore(switched, before);
    assert.deepEqual(usersOn(name), [a]);
  });

  it('refuses to move traffic when the service changed since it was read (etag), and says so', async () => {
    const name = cloudRunServiceName('tk-prod-123456', 'europe-west1', 'tk-race-web-ui');
    await emulator.addService(name);
    const traffic = new CloudRunTraffic(client, name);
    await release(traffic, name);
    const stale = await traffic.read();
    emulator.createRevision(name); // someone else deployed in between
    await assert.rejects(traffic.pinServing(stale), (error: unknown) => error instanceof DeployError && /changed while this release was moving it/.test(error.message));
  });

  it('an API refusal (a revision that does not exist) fails with the service named', async () => {
    const name = cloudRunServiceName('tk-prod-123456', 'europe-west1', 'tk-missing-web-ui');
    await emulator.addService(name);
    const traffic = new CloudRunTraffic(client, name);
    await traffic.pinServing(await traffic.read());
    await assert.rejects(traffic.stage(await traffic.read(), 'blue', 'tk-missing-web-ui-00042'), (error: unknown) => error instanceof DeployError && error.message.includes(`Cannot update the traffic of ${name}`) && /does not exist/.test(error.message));
  });
});
