import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DeployError } from '../../../components/errors.js';
import type { SnapshotRecord } from '../../../components/release/ports.js';

/**
 * Snapshots of an AWS stack are objects in its S3 bucket under `snapshots/`, each with the
 * SHA-256 of its bytes in its metadata. A snapshot counts as verified only once it was read back
 * in full, its checksum matched and it began as a pg_dump custom-format archive; it is then tagged
 * `verified=true`.
 *
 * Retention is the bucket's lifecycle rule (declared by the stack, checked here): objects tagged
 * `retention=expirable` expire `retentionDays` after they were written. A verified snapshot gets
 * that tag only once a newer one is verified, so the newest verified snapshot never expires,
 * however old it is, as on Docker.
 */
export const SNAPSHOT_PREFIX = 'snapshots/';
export const VERIFIED_TAG = { Key: 'verified', Value: 'true' } as const;
export const EXPIRABLE_TAG = { Key: 'retention', Value: 'expirable' } as const;
export const SNAPSHOT_LIFECYCLE_RULE_ID = 'trapperkeeper-snapshot-retention';
/** pg_dump -Fc archives start with these bytes. */
const PG_DUMP_MAGIC = Buffer.from('PGDMP');
const SHA256_METADATA = 'sha256';

/** The lifecycle rule the stack declares on its snapshot bucket (one shape for Pulumi and the check). */
export function snapshotLifecycleRule(retentionDays: number) {
  return {
    id: SNAPSHOT_LIFECYCLE_RULE_ID,
    status: 'Enabled',
    filter: { and: { prefix: SNAPSHOT_PREFIX, tags: { [EXPIRABLE_TAG.Key]: EXPIRABLE_TAG.Value } } },
    expiration: { days: retentionDays },
  } as const;
}

/** `snapshots/<stack>-20261202T104500Z.dump`: sortable, and the time is when it was taken. */
export function snapshotKey(stack: string, takenAt: Date): string {
  return `${SNAPSHOT_PREFIX}${stack}-${takenAt.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}.dump`;
}

function takenAtOfKey(key: string): Date | undefined {
  const match = /-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\.dump$/.exec(key);
  return match ? new Date(`${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}Z`) : undefined;
}

export interface SnapshotBucket {
  client: S3Client;
  bucket: string;
}

/**
 * Uploads a dump with its checksum: S3 checks the bytes it received against ChecksumSHA256 and
 * refuses to overwrite an existing snapshot (If-None-Match). What the one-off pg_dump task does
 * on AWS; here for the tests and for copying a dump in.
 */
export async function putSnapshot(target: SnapshotBucket, key: string, body: Buffer): Promise<{ sha256: string }> {
  const digest = createHash('sha256').update(body).digest();
  await target.client.send(
    new PutObjectCommand({
      Bucket: target.bucket,
      Key: key,
      Body: body,
      ChecksumSHA256: digest.toString('base64'),
      Metadata: { [SHA256_METADATA]: digest.toString('hex') },
      IfNoneMatch: '*',
    }),
  );
  return { sha256: digest.toString('hex') };
}

/**
 * Reads a snapshot back in full and checks it: the SHA-256 of every byte against the one recorded
 * at upload (its metadata, or the one the snapshot task printed), and the pg_dump archive header. Tags it verified, and marks every older snapshot
 * expirable. A snapshot that fails is a DeployError: the release stops before any migration.
 */
export async function verifySnapshot(target: SnapshotBucket, key: string, options: { recordedSha256?: string } = {}): Promise<SnapshotRecord & { sha256: string; bytes: number }> {
  const where = `s3://${target.bucket}/${key}`;
  const object = await target.client.send(new GetObjectCommand({ Bucket: target.bucket, Key: key })).catch((error: unknown) => {
    if ((error as { name?: string }).name === 'NoSuchKey') throw new DeployError(`The snapshot ${where} does not exist`, 'release again: a snapshot is taken before migrations');
    throw error;
  });
  // The writer's checksum: the object's metadata, or what the snapshot task reported it uploaded.
  const recorded = object.Metadata?.[SHA256_METADATA] ?? options.recordedSha256;
  const hash = createHash('sha256');
  let bytes = 0;
  let head = Buffer.alloc(0);
  for await (const chunk of object.Body as Readable) {
    const buffer = chunk as Buffer;
    hash.update(buffer);
    bytes += buffer.length;
    if (head.length < PG_DUMP_MAGIC.length) head = Buffer.concat([head, buffer.subarray(0, PG_DUMP_MAGIC.length - head.length)]);
  }
  const sha256 = hash.digest('hex');
  const fix = 'nothing was migrated; check the snapshot task\'s log and release again with `pulumi up`';
  if (!recorded) throw new DeployError(`The snapshot ${where} has no recorded checksum (metadata ${SHA256_METADATA}), so it cannot be verified`, fix);
  if (recorded !== sha256) throw new DeployError(`The snapshot ${where} reads back with SHA-256 ${sha256}, not the ${recorded} recorded when it was written: it is damaged`, fix);
  if (!head.equals(PG_DUMP_MAGIC)) throw new DeployError(`The snapshot ${where} is not a pg_dump custom-format archive (${bytes} bytes, no PGDMP header)`, fix);
  await target.client.send(new PutObjectTaggingCommand({ Bucket: target.bucket, Key: key, Tagging: { TagSet: [{ ...VERIFIED_TAG }] } }));
  const takenAt = takenAtOfKey(key) ?? object.LastModified ?? new Date();
  // Only now may the older ones expire: the newest verified snapshot is this one.
  for (const older of await listSnapshots(target)) {
    if (older.name !== key && older.takenAt.getTime() <= takenAt.getTime()) {
      await target.client.send(
        new PutObjectTaggingCommand({
          Bucket: target.bucket,
          Key: older.name,
          Tagging: { TagSet: [...(older.verified ? [{ ...VERIFIED_TAG }] : []), { ...EXPIRABLE_TAG }] },
        }),
      );
    }
  }
  return { name: key, takenAt, verified: true, sha256, bytes };
}

/** Every snapshot of the bucket, oldest first, verified or not, with its size in bytes. */
export async function listSnapshots(target: SnapshotBucket): Promise<Array<SnapshotRecord & { size: number }>> {
  const records: Array<SnapshotRecord & { size: number }> = [];
  let token: string | undefined;
  do {
    const page = await target.client.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: SNAPSHOT_PREFIX, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      if (!object.Key?.endsWith('.dump')) continue;
      const { TagSet: tags } = await target.client.send(new GetObjectTaggingCommand({ Bucket: target.bucket, Key: object.Key }));
      const verified = (tags ?? []).some((tag) => tag.Key === VERIFIED_TAG.Key && tag.Value === VERIFIED_TAG.Value);
      records.push({ name: object.Key, takenAt: takenAtOfKey(object.Key) ?? object.LastModified ?? new Date(0), verified, size: object.Size ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return records.sort((a, b) => a.takenAt.getTime() - b.takenAt.getTime() || (a.name < b.name ? -1 : 1));
}

/**
 * The bucket must carry the retention rule before a snapshot goes in: without it snapshots pile up
 * forever, with another expiry the retention is not what the stack says.
 */
export async function ensureSnapshotRetention(target: SnapshotBucket, retentionDays: number): Promise<void> {
  const fix = 'run `pulumi up` (the stack declares the rule; `pulumi refresh` first if it was changed by hand)';
  let rules: LifecycleRule[] = [];
  try {
    rules = (await target.client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: target.bucket }))).Rules ?? [];
  } catch (error) {
    if ((error as { name?: string }).name !== 'NoSuchLifecycleConfiguration') throw error;
  }
  const rule = rules.find((r) => r.ID === SNAPSHOT_LIFECYCLE_RULE_ID);
  if (!rule || rule.Status !== 'Enabled') throw new DeployError(`The snapshot bucket ${target.bucket} has no enabled lifecycle rule ${SNAPSHOT_LIFECYCLE_RULE_ID}`, fix);
  const and = rule.Filter?.And;
  const tagged = and?.Prefix === SNAPSHOT_PREFIX && (and.Tags ?? []).some((t) => t.Key === EXPIRABLE_TAG.Key && t.Value === EXPIRABLE_TAG.Value);
  if (!tagged) throw new DeployError(`The lifecycle rule ${SNAPSHOT_LIFECYCLE_RULE_ID} of ${target.bucket} does not expire only the snapshots tagged ${EXPIRABLE_TAG.Key}=${EXPIRABLE_TAG.Value} under ${SNAPSHOT_PREFIX}`, fix);
  if (rule.Expiration?.Days !== retentionDays) {
    throw new DeployError(`The lifecycle rule ${SNAPSHOT_LIFECYCLE_RULE_ID} of ${target.bucket} expires snapshots after ${rule.Expiration?.Days ?? 'no'} days, not snapshots.retentionDays ${retentionDays}`, fix);
  }
}
