import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CreateTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { lockHolderForThisProcess, type LockHolder } from '../../components/lock/lock-holder.js';
import { awsClients, type AwsClients } from '../../providers/aws/clients.js';
import { LOCK_KEY, acquireDynamoLock, breakDynamoLock, readDynamoLock, type DynamoLockTarget } from '../../providers/aws/lock/dynamodb-lock.js';
import { capturedEvents } from '../../providers/aws/testing.js';
import { startMoto, useFakeAwsCredentials, type Moto } from './moto.js';

const TABLE = 'tk-test-deploy-lock';
const IMAGE = { releaseId: '1.0.0-aaaaaaa-20261201T100000Z-b00000001', version: '1.0.0' };
const HERE = { host: 'release-runner', pidNamespace: 'boot-1:pid:[4026531836]' };

function holder(overrides: Partial<LockHolder> = {}): LockHolder {
  return { ...lockHolderForThisProcess(IMAGE, new Date('2026-12-02T10:00:00Z')), host: HERE.host, pidNamespace: HERE.pidNamespace, pid: 4242, ...overrides };
}

describe('the AWS deploy lock: a DynamoDB item written conditionally (moto)', { timeout: 120_000 }, () => {
  let moto: Moto;
  let clients: AwsClients;
  let target: DynamoLockTarget;
  const alive = () => true;

  before(async () => {
    useFakeAwsCredentials();
    moto = await startMoto();
    clients = awsClients({ region: 'eu-west-1', endpoint: moto.url });
    target = { client: clients.dynamodb, region: 'eu-west-1', table: TABLE, stack: 'test' };
  });
  after(async () => {
    clients?.destroy();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    await clients.dynamodb.send(
      new CreateTableCommand({
        TableName: TABLE,
        KeySchema: [{ AttributeName: LOCK_KEY.name, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: LOCK_KEY.name, AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  });

  it('one holder at a time: a second release is refused at once with who holds it, and gets it once released', async () => {
    const log = capturedEvents();
    const held = await acquireDynamoLock(target, holder({ user: 'alice' }), { waitMs: 0, events: log.events, machine: HERE, isAlive: alive });
    const status = await readDynamoLock(target);
    assert.equal(status.state, 'held');
    assert.equal(status.state === 'held' && status.holder.user, 'alice');
    await assert.rejects(acquireDynamoLock(target, holder({ user: 'bob', pid: 5151 }), { waitMs: 0, machine: HERE, isAlive: alive }), (error: Error) => {
      assert.match(error.message, /Another release holds the deploy lock: alice@release-runner \(pid 4242\) releasing 1\.0\.0 \[1\.0\.0-aaaaaaa/);
      assert.match(error.message, /since 2026-12-02T10:00:00\.000Z/);
      assert.ok(error.message.includes(`fix: wait for that release to finish (or set release.lockWaitMs), or, if you know it is gone, break the lock: node launcher/release-cli.mjs lock break --stack test --reason '<why>' (or: aws dynamodb delete-item --region eu-west-1 --table-name ${TABLE} --key '{"lock":{"S":"deploy"}}')`), error.message);
      return true;
    });
    await held.release();
    assert.deepEqual(await readDynamoLock(target), { state: 'free' });
    const again = await acquireDynamoLock(target, holder({ user: 'bob' }), { waitMs: 0, events: log.events, machine: HERE, isAlive: alive });
    await again.release();
    assert.deepEqual(log.names(), ['lock.acquired', 'lock.released', 'lock.acquired', 'lock.released']);
  });

  it('of ten releases racing for the lock, exactly one gets it', async () => {
    const attempts = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => acquireDynamoLock(target, holder({ user: `racer-${i}`, pid: 1000 + i }), { waitMs: 0, machine: HERE, isAlive: alive })),
    );
    const won = attempts.filter((a) => a.status === 'fulfilled');
    assert.equal(won.length, 1, attempts.map((a) => a.status).join(','));
    for (const lost of attempts.filter((a) => a.status === 'rejected')) assert.match(String(lost.reason), /Another release holds the deploy lock/);
    await (won[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
  });

  it('waits up to waitMs: gets the lock when the holder releases meanwhile', async () => {
    const first = await acquireDynamoLock(target, holder({ user: 'alice' }), { waitMs: 0, machine: HERE, isAlive: alive });
    const log = capturedEvents();
    const waiting = acquireDynamoLock(target, holder({ user: 'bob' }), { waitMs: 5_000, pollMs: 100, events: log.events, machine: HERE, isAlive: alive });
    setTimeout(() => void first.release(), 300);
    const second = await waiting;
    assert.deepEqual(log.names(), ['lock.waiting', 'lock.acquired']);
    await second.release();
  });

  it('a holder on this machine whose process is gone is stale: broken, logged, and the lock taken', async () => {
    await acquireDynamoLock(target, holder({ user: 'crashed', pid: 999_999 }), { waitMs: 0, machine: HERE, isAlive: alive });
    const log = capturedEvents();
    const held = await acquireDynamoLock(target, holder({ user: 'next' }), { waitMs: 0, events: log.events, machine: HERE, isAlive: (pid) => pid !== 999_999 });
    const broken = log.lines.find((line) => line.event === 'lock.broken');
    assert.equal(broken?.automatic, true);
    assert.match(String(broken?.reason), /process 999999 on release-runner no longer exists/);
    const status = await readDynamoLock(target);
    assert.equal(status.state === 'held' && status.holder.user, 'next');
    await held.release();
  });

  it('a holder on another machine is never broken automatically, even after waiting', async () => {
    await acquireDynamoLock(target, holder({ user: 'ci', host: 'ci-runner-7' }), { waitMs: 0, machine: HERE, isAlive: alive });
    await assert.rejects(
      acquireDynamoLock(target, holder({ user: 'me' }), { waitMs: 400, pollMs: 100, machine: HERE, isAlive: () => false }),
      /Another release holds the deploy lock: ci@ci-runner-7/,
    );
    const status = await readDynamoLock(target);
    assert.equal(status.state === 'held' && status.holder.user, 'ci');
  });

  it('an item that cannot be read is refused and left for a person', async () => {
    await clients.dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: { [LOCK_KEY.name]: { S: LOCK_KEY.value }, token: { S: 'x' }, holder: { M: { 'org.trapperkeeper.deploy-lock.user': { S: 'someone' } } } } }));
    await assert.rejects(acquireDynamoLock(target, holder(), { waitMs: 0, machine: HERE, isAlive: () => false }), /exists but cannot be read \(label .* is missing/);
    assert.equal((await readDynamoLock(target)).state, 'unreadable');
  });

  it('releasing never removes a lock another release took after it was broken', async () => {
    const log = capturedEvents();
    const first = await acquireDynamoLock(target, holder({ user: 'slow' }), { waitMs: 0, machine: HERE, isAlive: alive });
    const broken = await breakDynamoLock(target, log.events);
    assert.equal(broken.state === 'held' && broken.holder.user, 'slow');
    const second = await acquireDynamoLock(target, holder({ user: 'fresh' }), { waitMs: 0, machine: HERE, isAlive: alive });
    await first.release();
    const status = await readDynamoLock(target);
    assert.equal(status.state === 'held' && status.holder.user, 'fresh', 'the newer holder keeps the lock');
    await second.release();
    assert.deepEqual(await readDynamoLock(target), { state: 'free' });
  });
});
