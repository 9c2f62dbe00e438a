import { Storage, type Bucket } from '@google-cloud/storage';

/**
 * The stack's release-state bucket: the deploy lock (`lock/deploy`) and the database snapshots
 * (`snapshots/`) live in it, declared by the Pulumi program (GcpTarget) with a lifecycle rule on
 * `snapshots/` only.
 */
export interface ReleaseBucketRef {
  project: string;
  bucket: string;
  /**
   * Cloud Storage's JSON API root; only tests set it (fake-gcs-server on 127.0.0.1), and then no
   * credentials are sent. @default https://storage.googleapis.com with Application Default Credentials
   */
  apiEndpoint?: string;
}

export const LOCK_OBJECT = 'lock/deploy';
export const SNAPSHOT_PREFIX = 'snapshots/';
/** What Cloud Run job tasks write for the release to read (deleted once read; a day later by the bucket's rule if a release died first). */
export const JOB_OUTPUT_PREFIX = 'jobs/';

export function releaseBucket(ref: ReleaseBucketRef): Bucket {
  const storage = new Storage({
    projectId: ref.project,
    ...(ref.apiEndpoint ? { apiEndpoint: ref.apiEndpoint, useAuthWithCustomEndpoint: false } : {}),
  });
  return storage.bucket(ref.bucket);
}

/** The HTTP status of a Cloud Storage error (412 precondition failed, 404 not found, ...). */
export function storageErrorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
