import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import type { Bucket, File } from '@google-cloud/storage';
import { DeployError } from '../../../components/errors.js';
import { newestVerified } from '../../../components/release/rollback.js';
import type { SnapshotRecord } from '../../../components/release/ports.js';
import { SNAPSHOT_PREFIX, storageErrorCode } from '../storage/release-bucket.js';

/**
 * Database snapshots of a GCP stack as objects under `snapshots/` in the release-state bucket.
 * A dump is uploaded once (ifGenerationMatch=0: never over another), then read back in full from
 * Cloud Storage and its SHA-256 compared with the local file's; only then is the object marked
 * verified (custom metadata `verified-sha256`, written with a precondition on that generation).
 * A dump that does not read back identical is deleted and the snapshot fails. The bucket's
 * lifecycle rule (declared by GcpTarget) deletes snapshots after the retention.
 *
 * Object names: `snapshots/<database>_<UTC YYYYMMDDTHHMMSSZ>_<commit>.dump`.
 */
export interface GcsSnapshot extends SnapshotRecord {
  /** The object name inside the bucket. */
  object: string;
  commit: string;
  size: number;
  sha256?: string;
  generation: string;
  /** Set by retention once a newer verified snapshot exists; the bucket's lifecycle rule counts from it. */
  customTime?: Date;
}

const META = { sha256: 'sha256', verified: 'verified-sha256', commit: 'commit', database: 'database' } as const;

export function snapshotObjectName(database: string, takenAt: Date, commit: string): string {
  const time = takenAt.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
  return `${SNAPSHOT_PREFIX}${database}_${time}_${commit}.dump`;
}

/** The snapshot an object name stands for, or undefined for anything else under the prefix. */
export function parseSnapshotObjectName(database: string, object: string): { takenAt: Date; commit: string } | undefined {
  const match = new RegExp(`^${SNAPSHOT_PREFIX}${escapeRegExp(database)}_(\\d{4})(\\d{2})(\\d{2})T(\\d{2})(\\d{2})(\\d{2})Z_([A-Za-z0-9]{1,64})\\.dump$`).exec(object);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, commit] = match;
  const takenAt = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
  return Number.isNaN(takenAt.getTime()) ? undefined : { takenAt, commit: commit! };
}

export async function sha256OfFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(createReadStream(path), hashingSink(hash, (n) => (size += n)));
  return { sha256: hash.digest('hex'), size };
}

/** Uploads a dump file, reads it back in full, and marks it verified only when the bytes match. */
export async function storeSnapshot(
  bucket: Bucket,
  dump: { path: string; database: string; takenAt: Date; commit: string },
): Promise<GcsSnapshot> {
  const object = snapshotObjectName(dump.database, dump.takenAt, dump.commit);
  const local = await sha256OfFile(dump.path);
  const file = bucket.file(object);
  try {
    await bucket.upload(dump.path, {
      destination: object,
      resumable: local.size > 8 * 1024 * 1024,
      validation: 'crc32c',
      contentType: 'application/octet-stream',
      metadata: { metadata: { [META.sha256]: local.sha256, [META.commit]: dump.commit, [META.database]: dump.database } },
      preconditionOpts: { ifGenerationMatch: 0 },
    });
  } catch (error) {
    if (storageErrorCode(error) === 412) {
      throw new DeployError(`A snapshot named gs://${bucket.name}/${object} already exists; it was not replaced`, 'wait a second and release again (snapshot names carry the time to the second)');
    }
    throw new DeployError(`Uploading the snapshot to gs://${bucket.name}/${object} failed: ${(error as Error).message}`, 'check the release\'s credentials (roles/storage.objectUser on the bucket) and release again; no migration ran');
  }
  const [uploaded] = await file.getMetadata();
  const generation = String(uploaded.generation);

  const readBack = await readBackSha256(bucket.file(object, { generation: Number(generation) }));
  if (readBack.sha256 !== local.sha256 || readBack.size !== local.size) {
    await bucket.file(object, { generation: Number(generation) }).delete({ ifGenerationMatch: Number(generation) }).catch(() => undefined);
    throw new DeployError(
      `The snapshot gs://${bucket.name}/${object} does not read back as written (sha256 ${readBack.sha256}, ${readBack.size} bytes; expected ${local.sha256}, ${local.size} bytes); it was deleted`,
      'release again; if it repeats, check the bucket (gcloud storage objects describe) and the network; no migration ran',
    );
  }
  await file.setMetadata({ metadata: { [META.verified]: local.sha256 } }, { ifGenerationMatch: Number(generation) });
  return { name: object.slice(SNAPSHOT_PREFIX.length), object, takenAt: dump.takenAt, verified: true, commit: dump.commit, size: local.size, sha256: local.sha256, generation };
}

/** Every snapshot of `database` in the bucket, oldest first; verified only when marked after a full read-back. */
export async function listSnapshots(bucket: Bucket, database: string): Promise<GcsSnapshot[]> {
  const [files] = await bucket.getFiles({ prefix: SNAPSHOT_PREFIX });
  const snapshots: GcsSnapshot[] = [];
  for (const file of files) {
    const parsed = parseSnapshotObjectName(database, file.name);
    if (!parsed) continue;
    const custom = (file.metadata.metadata ?? {}) as Record<string, unknown>;
    const sha256 = typeof custom[META.sha256] === 'string' ? (custom[META.sha256] as string) : undefined;
    const verified = sha256 !== undefined && custom[META.verified] === sha256;
    snapshots.push({
      name: file.name.slice(SNAPSHOT_PREFIX.length),
      object: file.name,
      takenAt: parsed.takenAt,
      commit: parsed.commit,
      verified,
      size: Number(file.metadata.size ?? 0),
      ...(sha256 ? { sha256 } : {}),
      generation: String(file.metadata.generation ?? ''),
      ...(file.metadata.customTime ? { customTime: new Date(String(file.metadata.customTime)) } : {}),
    });
  }
  return snapshots.sort((a, b) => a.takenAt.getTime() - b.takenAt.getTime() || a.name.localeCompare(b.name));
}

export async function latestSnapshot(bucket: Bucket, database: string): Promise<GcsSnapshot | undefined> {
  return newestVerified(await listSnapshots(bucket, database));
}

/** Reads a stored snapshot in full again and checks it against its recorded checksum. */
export async function verifyStoredSnapshot(bucket: Bucket, snapshot: Pick<GcsSnapshot, 'object' | 'generation' | 'sha256'>): Promise<{ ok: boolean; sha256: string; size: number }> {
  const readBack = await readBackSha256(bucket.file(snapshot.object, { generation: Number(snapshot.generation) }));
  return { ok: snapshot.sha256 !== undefined && readBack.sha256 === snapshot.sha256, ...readBack };
}

async function readBackSha256(file: File): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  // The client checks the object's own CRC32C/MD5 on the way too (validation on by default).
  await pipeline(file.createReadStream(), hashingSink(hash, (n) => (size += n)));
  return { sha256: hash.digest('hex'), size };
}

function hashingSink(hash: ReturnType<typeof createHash>, count: (bytes: number) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      count(chunk.length);
      callback();
    },
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
