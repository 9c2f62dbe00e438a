import { v7 as uuidv7 } from 'uuid';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import { UserError } from '../errors.js';
import type { Queryable } from './types.js';

/** An operator account of the web UI. The password hash never leaves this module. */
export interface User {
  id: string;
  tenantId: string;
  username: string;
  isAdmin: boolean;
  createdAt: string;
  lastLoginAt: string | null;
}

interface UserRow {
  id: string;
  tenant_id: string;
  username: string;
  is_admin: number;
  created_at: string;
  last_login_at: string | null;
  [column: string]: unknown;
}

const USER_COLUMNS = 'id, tenant_id, username, is_admin, created_at, last_login_at';
export const USERNAME_MAX_LENGTH = 128;
export const PASSWORD_MIN_LENGTH = 12;

// Verified against when the username is unknown, so a wrong username costs as long as a
// wrong password and response timing does not reveal which accounts exist.
let timingDecoyHash: Promise<string> | undefined;

/** The hash an unknown username's password is checked against; made once, on first use. */
export function prepareUnknownUserDecoy(): Promise<string> {
  timingDecoyHash ??= hashPassword('timing decoy for unknown usernames');
  return timingDecoyHash;
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    username: row.username,
    isAdmin: Number(row.is_admin) === 1,
    createdAt: row.created_at,
    lastLoginAt: row.last_login_at,
  };
}

function checkNewCredentials(username: string, password: string): void {
  if (!/^[A-Za-z0-9._@-]+$/.test(username) || username.length > USERNAME_MAX_LENGTH) {
    throw new UserError(
      `Username "${username}" is not allowed`,
      `use 1-${USERNAME_MAX_LENGTH} characters from letters, digits, ".", "_", "@" and "-"`,
    );
  }
  if (password.length < PASSWORD_MIN_LENGTH) {
    throw new UserError(
      `The password for "${username}" is too short (${password.length} characters)`,
      `choose a password of at least ${PASSWORD_MIN_LENGTH} characters`,
    );
  }
}

/** Creates an account; throws UserError when the name is taken or the credentials are unfit. */
export async function createUser(
  db: Queryable,
  tenantId: string,
  username: string,
  password: string,
  options: { isAdmin?: boolean } = {},
): Promise<User> {
  checkNewCredentials(username, password);
  // The unique index covers soft-deleted rows too, so a deleted name stays taken.
  const taken = await db.query('SELECT id FROM users WHERE username = ?', [username]);
  if (taken.length > 0) {
    throw new UserError(
      `A user named "${username}" already exists`,
      'choose another username, or log in with the existing account',
    );
  }
  const id = uuidv7();
  const now = new Date();
  const passwordHash = await hashPassword(password);
  await db.execute(
    `INSERT INTO users (id, tenant_id, username, password_hash, is_admin, created_at, modified_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [id, tenantId, username, passwordHash, options.isAdmin ? 1 : 0, now, now],
  );
  const created = await getUser(db, id);
  if (!created) throw new Error(`user ${id} vanished right after it was inserted`);
  return created;
}

/** The live (not soft-deleted) user with this id. */
export async function getUser(db: Queryable, id: string): Promise<User | undefined> {
  const rows = await db.query<UserRow>(
    `SELECT ${USER_COLUMNS} FROM users WHERE id = ? AND deleted_at IS NULL`,
    [id],
  );
  return rows[0] ? toUser(rows[0]) : undefined;
}

/**
 * The user when the password matches a live account, recording the login time; undefined
 * otherwise, after the same amount of work whether or not the username exists.
 */
export async function verifyUserPassword(
  db: Queryable,
  username: string,
  password: string,
): Promise<User | undefined> {
  const rows = await db.query<UserRow & { password_hash: string }>(
    `SELECT ${USER_COLUMNS}, password_hash FROM users WHERE username = ? AND deleted_at IS NULL`,
    [username],
  );
  const row = rows[0];
  if (!row) {
    await verifyPassword(await prepareUnknownUserDecoy(), password);
    return undefined;
  }
  if (!(await verifyPassword(row.password_hash, password))) return undefined;
  const now = new Date();
  await db.execute('UPDATE users SET last_login_at = ? WHERE id = ?', [now, row.id]);
  return { ...toUser(row), lastLoginAt: now.toISOString() };
}

/** The number of live accounts (the login page hints at `users create-admin` when it is 0). */
export async function countUsers(db: Queryable): Promise<number> {
  const rows = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM users WHERE deleted_at IS NULL');
  return Number(rows[0]?.n ?? 0);
}
