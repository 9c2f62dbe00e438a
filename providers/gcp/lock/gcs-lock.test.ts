import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Bucket } from '@google-cloud/storage';
import { createDeployEvents, type DeployEvents } from '../../../components/events/deploy-events.js';
import type { LockHolder } from '../../../components/lock/lock-holder.js';
import { startFakeGcs, type FakeGcs } from '../fake-gcs.js';
import { LOCK_OBJECT } from '../storage/release-bucket.js';
import { lockHolderForThisProcess } from '../../../components/lock/lock-holder.js';
import { GcsLockHeldError, acquireGcsLock, breakGcsLock, gcsLockPort, readGcsLock } from './gcs-lock.js';

const MACHINE = { host: 'runner-a', pidNamespace: 'boot-1:pid:[1]' };

function holder(pid: number, overrides: Partial<LockHolder> = {}): LockHolder {
  return {
    user: 'alice',
    host: MACHINE.host,
    pid,
    pidNamespace: MACHINE.pidNamespace,
    releaseId: `1.0.${pid}-0123abcd-20261202T100000Z`,
    version: `1.0.${pid}`,
    startedAt: new Date('2026-12-02T10:00:00.000Z'),
    ...overrides,
  };
}

function eventLog(): { events: DeployEvents; records(): Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  return { events: createDeployEvents({ format: 'json', destination, jsonFile: '' }), records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('the GCS deploy lock (real @google-cloud/storage against fake-gcs-server)', () => {
  let gcs: FakeGcs;
  before(async () => {
    gcs = await startFakeGcs();
  });
  after(async () => {
    await gcs?.stop();
  });

  it('the emulator enforces generation preconditions: of 8 holders racing for a free lock exactly one wins', async () => {
    const bucket = await gcs.newBucket();
    const alive = () => true;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => acquireGcsLock({ stack: 'race', bucket }, holder(100 + i), { machine: MACHINE, isAlive: alive })),
    );
    const winners = outcomes.filter((o) => o.status === 'fulfilled');
    const losers = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    assert.equal(winners.length, 1, `winners: ${winners.length}`);
    assert.equal(losers.length, 7);
    for (const loser of losers) assert.ok(loser.reason instanceof GcsLockHeldError, String(loser.reason));
    const won = (winners[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireGcsLock>>>).value;
    const status = await readGcsLock({ stack: 'race', bucket });
    assert.equal(status.state, 'held');
    assert.deepEqual(status.state === 'held' && status.holder, won.holder, 'the object names the one winner');
    assert.equal(status.state === 'held' && status.generation, won.generation);
  });

  it('refuses a second holder at once with who holds it, for which release, since when, and the break command; free again once released', async () => {
    const bucket = await gcs.newBucket();
    const log = eventLog();
    const first = await acquireGcsLock({ stack: 'dev', bucket }, holder(4242), { machine: MACHINE, isAlive: () => true, events: log.events });
    const refused = await acquireGcsLock({ stack: 'dev', bucket }, holder(4343), { machine: MACHINE, isAlive: () => true }).then(
      () => assert.fail('a second holder got the lock'),
      (error: unknown) => error,
    );
    assert.ok(refused instanceof GcsLockHeldError);
    assert.match(refused.message, /alice@runner-a \(pid 4242\) releasing 1\.0\.4242 \[1\.0\.4242-0123abcd-20261202T100000Z\] since 2026-12-02T10:00:00\.000Z/);
    assert.match(refused.message, /node launcher\/release-cli\.mjs lock break --stack dev/);
    await first.release();
    await first.release();
    assert.equal((await readGcsLock({ stack: 'dev', bucket })).state, 'free');
    const second = await acquireGcsLock({ stack: 'dev', bucket }, holder(4343), { machine: MACHINE, isAlive: () => true, events: log.events });
    await second.release();
    assert.deepEqual(
      log.records().map((r) => r.event),
      ['lock.acquired', 'lock.released', 'lock.acquired', 'lock.released'],
    );
  });

  it('waits for a holder that releases within lockWaitMs, then takes the lock', async () => {
    const bucket = await gcs.newBucket();
    const first = await acquireGcsLock({ stack: 'dev', bucket }, holder(1), { machine: MACHINE, isAlive: () => true });
    setTimeout(() => void first.release(), 300);
    const started = Date.now();
    const second = await acquireGcsLock({ stack: 'dev', bucket }, holder(2), { machine: MACHINE, isAlive: () => true, waitMs: 5_000, pollMs: 100 });
    assert.ok(Date.now() - started >= 250, 'it waited for the release');
    await second.release();
  });

  it('steals a lock whose holder provably died on this machine, replacing exactly that generation, and logs it', async () => {
    const bucket = await gcs.newBucket();
    const log = eventLog();
    const dead = await acquireGcsLock({ stack: 'dev', bucket }, holder(7), { machine: MACHINE, isAlive: () => true });
    const taken = await acquireGcsLock({ stack: 'dev', bucket }, holder(8), { machine: MACHINE, isAlive: (pid) => pid !== 7, events: log.events });
    assert.notEqual(taken.generation, dead.generation);
    const broken = log.records().find((r) => r.event === 'lock.broken');
    assert.equal(broken?.reason, 'process 7 on runner-a no longer exists');
    // The dead holder's late release must not remove the lock that replaced it.
    await dead.release();
    const status = await readGcsLock({ stack: 'dev', bucket });
    assert.equal(status.state === 'held' && status.holder.pid, 8);
    await taken.release();
    assert.equal((await readGcsLock({ stack: 'dev', bucket })).state, 'free');
  });

  it('never steals from a holder on another machine, whatever our pid table says', async () => {
    const bucket = await gcs.newBucket();
    const remote = await acquireGcsLock({ stack: 'dev', bucket }, holder(9, { host: 'ci-runner-7' }), { machine: { host: 'ci-runner-7' }, isAlive: () => true });
    await assert.rejects(acquireGcsLock({ stack: 'dev', bucket }, holder(10), { machine: MACHINE, isAlive: () => false }), GcsLockHeldError);
    await remote.release();
  });

  it('a lock object with unreadable metadata is refused and never broken automatically; lock break removes it', async () => {
    const bucket = await gcs.newBucket();
    await bucket.file(LOCK_OBJECT).save('{}', { resumable: false, metadata: { metadata: { 'org.trapperkeeper.deploy-lock.user': 'bob' } } });
    const refused = await acquireGcsLock({ stack: 'dev', bucket }, holder(11), { machine: MACHINE, isAlive: () => false }).then(
      () => assert.fail('took an unreadable lock'),
      (error: unknown) => error,
    );
    assert.ok(refused instanceof GcsLockHeldError && refused.status.state === 'unreadable');
    assert.match(refused.message, /label org\.trapperkeeper\.deploy-lock\.host is missing/);
    const found = await breakGcsLock({ stack: 'dev', bucket }, { by: 'test' });
    assert.equal(found.state, 'unreadable');
    assert.equal((await readGcsLock({ stack: 'dev', bucket })).state, 'free');
  });

  it('the emulator refuses to delete a lock generation that was replaced (what release and break rely on)', async () => {
    const bucket: Bucket = await gcs.newBucket();
    const first = await acquireGcsLock({ stack: 'dev', bucket }, holder(12), { machine: MACHINE, isAlive: () => true });
    const status = await readGcsLock({ stack: 'dev', bucket });
    await first.release();
    const second = await acquireGcsLock({ stack: 'dev', bucket }, holder(13), { machine: MACHINE, isAlive: () => true });
    // A break decided on the first holder's generation arrives after the second took the lock.
    assert.equal(status.state, 'held');
    await bucket
      .file(LOCK_OBJECT, { generation: Number(status.state === 'held' ? status.generation : 0) })
      .delete({ ifGenerationMatch: Number(status.state === 'held' ? status.generation : 0) })
      .catch(() => undefined);
    const after = await readGcsLock({ stack: 'dev', bucket });
    assert.equal(after.state === 'held' && after.holder.pid, 13);
    await second.release();
  });

  it('as the pipeline\'s lock port: one holder at a time across two release processes, refused at once with waitMs 0, free again once released', async () => {
    const bucket = await gcs.newBucket();
    const log = eventLog();
    const image = { releaseId: '1.0.0-0123abcd-20261202T100000Z', version: '1.0.0' };
    const first = gcsLockPort({ stack: 'dev', bucket });
    const second = gcsLockPort({ stack: 'dev', bucket: (await import('../storage/release-bucket.js')).releaseBucket({ project: 'tk-test-project', bucket: bucket.name, apiEndpoint: gcs.apiEndpoint }) });
    const held = await first.acquire(lockHolderForThisProcess(image), { waitMs: 0, events: log.events });
    assert.equal(held.name, `gs://${bucket.name}/lock/deploy`);
    await assert.rejects(second.acquire(lockHolderForThisProcess(image), { waitMs: 0, events: log.events }), GcsLockHeldError);
    await held.release();
    const again = await second.acquire(lockHolderForThisProcess(image), { waitMs: 0, events: log.events });
    await again.release();
    assert.deepEqual(log.records().map((r) => r.event).filter((e) => String(e).startsWith('lock.')), ['lock.acquired', 'lock.released', 'lock.acquired', 'lock.released']);
  });
});
