import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from './types.js';

/**
 * Web UI login sessions. The id handed to the browser is 32 random bytes (base64url); the
 * table stores only its SHA-256, so a database leak does not leak usable sessions.
 */
export interface Session {
  /** SHA-256 (hex) of the session id: the table's key, safe to use as a map key. */
  idHash: string;
  userId: string;
  tenantId: string;
  createdAt: string;
  expiresAt: string;
}

/** A looked-up session, and whether this lookup slid its expiry forward. */
export interface ActiveSession extends Session {
  extended: boolean;
}

interface SessionRow {
  id_hash: string;
  user_id: string;
  tenant_id: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  [column: string]: unknown;
}

/** Expiry slides forward on use, but the row is rewritten at most this often. */
export const SESSION_TOUCH_INTERVAL_MS = 60_000;

export function hashSessionId(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

function expiryFrom(now: Date, ttlMinutes: number): Date {
  return new Date(now.getTime() + ttlMinutes * 60_000);
}

/** Starts a session; the returned `id` goes into the cookie and is not stored anywhere. */
export async function createSession(
  db: Queryable,
  options: { userId: string; tenantId: string; ttlMinutes: number; now?: Date },
): Promise<{ id: string; session: Session }> {
  const now = options.now ?? new Date();
  const id = randomBytes(32).toString('base64url');
  const idHash = hashSessionId(id);
  const expiresAt = expiryFrom(now, options.ttlMinutes);
  await db.execute(
    `INSERT INTO sessions (id_hash, user_id, tenant_id, created_at, last_seen_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
    [idHash, options.userId, options.tenantId, now, now, expiresAt],
  );
  return {
    id,
    session: {
      idHash,
      userId: options.userId,
      tenantId: options.tenantId,
      createdAt: now.toISOString(),
      expiresAt: expiresAt.toISOString(),
    },
  };
}

/**
 * The live session for a cookie value: unexpired and owned by a live user. Use slides the
 * expiry to now + ttl, written at most once per SESSION_TOUCH_INTERVAL_MS.
 */
export async function lookupSession(
  db: Queryable,
  id: string,
  options: { ttlMinutes: number; now?: Date },
): Promise<ActiveSession | undefined> {
  const now = options.now ?? new Date();
  const idHash = hashSessionId(id);
  const rows = await db.query<SessionRow>(
    `SELECT s.id_hash, s.user_id, s.tenant_id, s.created_at, s.last_seen_at, s.expires_at
       FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.id_hash = ? AND s.expires_at > ? AND u.deleted_at IS NULL`,
    [idHash, now],
  );
  const row = rows[0];
  if (!row) return undefined;
  const session: ActiveSession = {
    idHash: row.id_hash,
    userId: row.user_id,
    tenantId: row.tenant_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    extended: false,
  };
  if (now.getTime() - Date.parse(row.last_seen_at) < SESSION_TOUCH_INTERVAL_MS) return session;
  const expiresAt = expiryFrom(now, options.ttlMinutes);
  await db.execute('UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?', [
    now,
    expiresAt,
    idHash,
  ]);
  return { ...session, expiresAt: expiresAt.toISOString(), extended: true };
}

/** Ends a session (logout). Unknown ids are ignored. */
export async function deleteSession(db: Queryable, id: string): Promise<void> {
  await db.execute('DELETE FROM sessions WHERE id_hash = ?', [hashSessionId(id)]);
}

/** Removes every session that expired before `now`; returns how many. */
export async function purgeExpiredSessions(db: Queryable, now: Date = new Date()): Promise<number> {
  return db.execute('DELETE FROM sessions WHERE expires_at <= ?', [now]);
}
