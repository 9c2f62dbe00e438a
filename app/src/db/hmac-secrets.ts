import { timingSafeEqual } from 'node:crypto';
import { hmacSecretFingerprint, type HmacSecret } from '../auth/hmac-secrets.js';
import { UserError } from '../errors.js';
import type { Queryable } from './types.js';

/**
 * The hmac_secrets table remembers which secret ids the server has been configured with,
 * by fingerprint (SHA-256 of the secret), never the secret. Its job is to catch a secret
 * replaced under an id already in use: every key issued under that id would silently stop
 * verifying, so the server refuses to start instead.
 */
export interface RecordedHmacSecret {
  id: string;
  createdAt: string;
}

interface HmacSecretRow {
  id: string;
  secret_hash: string;
  created_at: string;
  [column: string]: unknown;
}

function changedSecretError(id: string): UserError {
  return new UserError(
    `The HMAC secret with id ${id} changed: the configured secret under this id does not match the one ` +
      'recorded when it was first used, so every API key issued under it would stop working',
    `restore the original secret for id ${id}; to rotate, add the new secret under a NEW id ` +
      '(TK_HMAC_SECRET_1..N keep the old ones) and issue new keys',
  );
}

function sameFingerprint(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

async function findRecorded(db: Queryable, id: string): Promise<HmacSecretRow | undefined> {
  const rows = await db.query<HmacSecretRow>('SELECT id, secret_hash, created_at FROM hmac_secrets WHERE id = ?', [id]);
  return rows[0];
}

/**
 * Records each configured secret not seen before; throws UserError when a configured id is
 * recorded with a different secret. Checks every secret before recording any.
 */
export async function recordHmacSecrets(db: Queryable, secrets: readonly HmacSecret[]): Promise<void> {
  const unseen: { id: string; fingerprint: string }[] = [];
  for (const secret of secrets) {
    const fingerprint = hmacSecretFingerprint(secret);
    const recorded = await findRecorded(db, secret.id);
    if (!recorded) unseen.push({ id: secret.id, fingerprint });
    else if (!sameFingerprint(recorded.secret_hash, fingerprint)) throw changedSecretError(secret.id);
  }
  for (const { id, fingerprint } of unseen) {
    try {
      await db.execute('INSERT INTO hmac_secrets (id, secret_hash, created_at) VALUES (?, ?, ?)', [id, fingerprint, new Date()]);
    } catch (error) {
      // Another replica starting at the same moment may have recorded it first.
      const recorded = await findRecorded(db, id);
      if (!recorded) throw error;
      if (!sameFingerprint(recorded.secret_hash, fingerprint)) throw changedSecretError(id);
    }
  }
}

/** The secret ids recorded so far, oldest first. */
export async function listRecordedHmacSecrets(db: Queryable): Promise<RecordedHmacSecret[]> {
  const rows = await db.query<HmacSecretRow>('SELECT id, secret_hash, created_at FROM hmac_secrets ORDER BY created_at, id');
  return rows.map((row) => ({ id: row.id, createdAt: row.created_at }));
}
