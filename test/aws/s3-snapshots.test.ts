import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectTaggingCommand, PutBucketLifecycleConfigurationCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeployError } from '../../components/errors.js';
import { newestVerified } from '../../components/release/rollback.js';
import { awsClients, type AwsClients } from '../../providers/aws/clients.js';
import {
  EXPIRABLE_TAG,
  ensureSnapshotRetention,
  listSnapshots,
  putSnapshot,
  snapshotKey,
  snapshotLifecycleRule,
  verifySnapshot,
  type SnapshotBucket,
} from '../../providers/aws/snapshot/s3-snapshots.js';
import { startMoto, useFakeAwsCredentials, type Moto } from './moto.js';

const BUCKET = 'tk-test-snapshots-eu-west-1';

/** A stand-in for `pg_dump -Fc` output: its header, then `size` random bytes. */
function dump(size: number): Buffer {
  return Buffer.concat([Buffer.from('PGDMP'), randomBytes(size)]);
}

/** The rule the stack declares (Pulumi's shape), as the AWS provider sends it. */
function declaredRule(retentionDays: number) {
  const rule = snapshotLifecycleRule(retentionDays);
  return {
    ID: rule.id,
    Status: rule.status,
    Filter: { And: { Prefix: rule.filter.and.prefix, Tags: Object.entries(rule.filter.and.tags).map(([Key, Value]) => ({ Key, Value })) } },
    Expiration: { Days: rule.expiration.days },
  };
}

describe('snapshots in S3: checksummed on upload, read back in full, retention by a lifecycle rule that spares the newest (moto)', { timeout: 120_000 }, () => {
  let moto: Moto;
  let clients: AwsClients;
  let bucket: SnapshotBucket;

  before(async () => {
    useFakeAwsCredentials();
    moto = await startMoto();
    clients = awsClients({ region: 'eu-west-1', endpoint: moto.url });
    bucket = { client: clients.s3, bucket: BUCKET };
  });
  after(async () => {
    clients?.destroy();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    await clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
  });

  it('a snapshot read back in full with its recorded checksum is verified, tagged and listed as verified, with its size', async () => {
    const body = dump(6 * 1024 * 1024);
    const key = snapshotKey('test', new Date('2026-12-02T10:45:00.123Z'));
    assert.equal(key, 'snapshots/test-20261202T104500Z.dump');
    const { sha256 } = await putSnapshot(bucket, key, body);
    assert.equal(sha256, createHash('sha256').update(body).digest('hex'));
    const verified = await verifySnapshot(bucket, key);
    assert.deepEqual(verified, { name: key, takenAt: new Date('2026-12-02T10:45:00Z'), verified: true, sha256, bytes: body.length });
    assert.deepEqual(await listSnapshots(bucket), [{ name: key, takenAt: new Date('2026-12-02T10:45:00Z'), verified: true, size: body.length }]);
  });

  it('never overwrites a snapshot of the same name', async () => {
    const key = snapshotKey('test', new Date('2026-12-02T10:45:00Z'));
    await putSnapshot(bucket, key, dump(100));
    await assert.rejects(putSnapshot(bucket, key, dump(100)), (error: Error) => error.name === 'PreconditionFailed');
  });

  const damaged: Array<[string, () => { body: Buffer; metadata: Record<string, string> }, RegExp]> = [
    ['a damaged one (bytes that do not match the recorded checksum)', () => {
      const body = dump(1000);
      const other = Buffer.from(body);
      other[500] = (other[500]! + 1) % 256;
      return { body: other, metadata: { sha256: createHash('sha256').update(body).digest('hex') } };
    }, /reads back with SHA-256 [0-9a-f]{64}, not the [0-9a-f]{64} recorded when it was written: it is damaged/],
    ['one without a recorded checksum', () => ({ body: dump(1000), metadata: {} }), /has no recorded checksum/],
    ['one that is no pg_dump archive', () => {
      const body = Buffer.from('-- plain SQL, not -Fc\n');
      return { body, metadata: { sha256: createHash('sha256').update(body).digest('hex') } };
    }, /is not a pg_dump custom-format archive/],
  ];
  for (const [title, make, message] of damaged) {
    it(`refuses ${title} and leaves it unverified`, async () => {
      const key = snapshotKey('test', new Date('2026-12-02T11:00:00Z'));
      const { body, metadata } = make();
      await clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, Metadata: metadata }));
      await assert.rejects(verifySnapshot(bucket, key), (error: Error) => error instanceof DeployError && message.test(error.message) && /nothing was migrated/.test(error.message));
      assert.deepEqual(await listSnapshots(bucket), [{ name: key, takenAt: new Date('2026-12-02T11:00:00Z'), verified: false, size: body.length }]);
    });
  }

  it('refuses a snapshot that does not exist', async () => {
    await assert.rejects(verifySnapshot(bucket, 'snapshots/test-20261202T110000Z.dump'), /does not exist/);
  });

  it('a newer verified snapshot makes the older ones expirable; the newest never is', async () => {
    const times = ['2026-11-20T08:00:00Z', '2026-11-25T08:00:00Z', '2026-12-02T08:00:00Z'].map((t) => new Date(t));
    const keys = times.map((t) => snapshotKey('test', t));
    for (const key of keys) {
      await putSnapshot(bucket, key, dump(2000));
      await verifySnapshot(bucket, key);
    }
    const expirable = async (key: string) => ((await clients.s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }))).TagSet ?? []).some((t) => t.Key === EXPIRABLE_TAG.Key && t.Value === EXPIRABLE_TAG.Value);
    assert.deepEqual(await Promise.all(keys.map(expirable)), [true, true, false]);
    const listed = await listSnapshots(bucket);
    assert.deepEqual(listed.map((s) => s.name), keys);
    assert.equal(newestVerified(listed)?.name, keys[2]);
  });

  it('checks the bucket carries the declared retention rule before a snapshot goes in', async () => {
    await assert.rejects(ensureSnapshotRetention(bucket, 7), /has no enabled lifecycle rule trapperkeeper-snapshot-retention[\s\S]*pulumi up/);
    await clients.s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: BUCKET, LifecycleConfiguration: { Rules: [declaredRule(7)] } }));
    await ensureSnapshotRetention(bucket, 7);
    await assert.rejects(ensureSnapshotRetention(bucket, 14), /expires snapshots after 7 days, not snapshots.retentionDays 14/);
    await clients.s3.send(
      new PutBucketLifecycleConfigurationCommand({ Bucket: BUCKET, LifecycleConfiguration: { Rules: [{ ...declaredRule(7), Filter: { Prefix: 'snapshots/' } }] } }),
    );
    await assert.rejects(ensureSnapshotRetention(bucket, 7), /does not expire only the snapshots tagged retention=expirable/);
  });
});
