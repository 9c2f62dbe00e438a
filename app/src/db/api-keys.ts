import { v7 as uuidv7 } from 'uuid';
import { apiKeyHashesEqual, generateApiKey, hashApiKey } from '../auth/api-keys.js';
import type { HmacSecret } from '../auth/hmac-secrets.js';
import { UserError } from '../errors.js';
import type { Queryable } from './types.js';

/**
 * Sensor API keys. Only the HMAC of a key is stored; the key itself is handed out once,
 * when it is created.
 */
export interface ApiKeyRecord {
  id: string;
  name: string;
  secretId: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** What authentication needs to know about the key a hash belongs to. */
export interface ApiKeyLookup extends ApiKeyRecord {
  tenantId: string;
}

interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string;
  key_hash: string;
  secret_id: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  [column: string]: unknown;
}

const API_KEY_COLUMNS = 'id, tenant_id, name, key_hash, secret_id, created_at, last_used_at, revoked_at';
export const API_KEY_NAME_MAX_LENGTH = 128;
/** last_used_at is rewritten at most this often per key, so authentication rarely writes. */
export const API_KEY_TOUCH_INTERVAL_MS = 60_000;

function toRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    secretId: row.secret_id,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

/** Issues a key under `secret`. The returned `key` is the only copy: it is not stored. */
export async function createApiKey(
  db: Queryable,
  tenantId: string,
  name: string,
  secret: HmacSecret,
): Promise<{ key: string; record: ApiKeyRecord }> {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > API_KEY_NAME_MAX_LENGTH) {
    throw new UserError(
      `An API key name must have 1-${API_KEY_NAME_MAX_LENGTH} characters (got ${trimmed.length})`,
      'name the key after the sensor or team that will use it',
    );
  }
  const id = uuidv7();
  const key = generateApiKey(secret);
  const now = new Date();
  await db.execute(
    `INSERT INTO api_keys (id, tenant_id, name, key_hash, secret_id, created_at, modified_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [id, tenantId, trimmed, hashApiKey(key, secret), secret.id, now, now],
  );
  const rows = await db.query<ApiKeyRow>(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE id = ?`, [id]);
  if (!rows[0]) throw new Error(`API key ${id} vanished right after it was inserted`);
  return { key, record: toRecord(rows[0]) };
}

/** The tenant's keys, revoked ones included (they stay visible for audit), oldest first. */
export async function listApiKeys(db: Queryable, tenantId: string): Promise<ApiKeyRecord[]> {
  const rows = await db.query<ApiKeyRow>(
    `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE tenant_id = ? AND deleted_at IS NULL ORDER BY created_at, id`,
    [tenantId],
  );
  return rows.map(toRecord);
}

/** Revokes a key; true when the tenant has such a key (revoked now or before), false otherwise. */
export async function revokeApiKey(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  const now = new Date();
  await db.execute(
    `UPDATE api_keys SET revoked_at = ?, modified_at = ?
     WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL AND deleted_at IS NULL`,
    [now, now, tenantId, id],
  );
  const rows = await db.query('SELECT id FROM api_keys WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL', [
    tenantId,
    id,
  ]);
  return rows.length > 0;
}

/** The live key whose stored hash equals `keyHash` (compared in constant time), if any. */
export async function findApiKeyByHash(db: Queryable, keyHash: string): Promise<ApiKeyLookup | undefined> {
  const rows = await db.query<ApiKeyRow>(
    `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE key_hash = ? AND deleted_at IS NULL`,
    [keyHash],
  );
  const row = rows[0];
  if (!row || !apiKeyHashesEqual(row.key_hash, keyHash)) return undefined;
  return { ...toRecord(row), tenantId: row.tenant_id };
}

/**
 * Records that a key was used, unless that was recorded less than a minute ago: the
 * condition sits in the UPDATE, so concurrent calls write at most once per interval.
 * Returns whether the row was written.
 */
export async function touchApiKeyLastUsed(db: Queryable, id: string, now: Date = new Date()): Promise<boolean> {
  const staleBefore = new Date(now.getTime() - API_KEY_TOUCH_INTERVAL_MS);
  const changed = await db.execute(
    'UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)',
    [now, id, staleBefore],
  );
  return changed > 0;
}

/** Whether a lookup's last_used_at is recent enough that touching it would write nothing. */
export function lastUsedIsFresh(lastUsedAt: string | null, now: Date = new Date()): boolean {
  return lastUsedAt !== null && now.getTime() - Date.parse(lastUsedAt) < API_KEY_TOUCH_INTERVAL_MS;
}
