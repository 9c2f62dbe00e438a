import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, DIALECTS } from '../support/databases.js';
import { createUser, type User } from '../../src/db/users.js';
import {
  createSession,
  deleteSession,
  hashSessionId,
  lookupSession,
  purgeExpiredSessions,
} from '../../src/db/sessions.js';
import { DEFAULT_TENANT_ID, type Database } from '../../src/db/types.js';

const TTL_MINUTES = 30;
const minutes = (n: number) => n * 60_000;

for (const dialect of DIALECTS) {
  describe(`sessions on ${dialect}`, () => {
    let db: Database;
    let drop: () => Promise<void>;
    let user: User;
    before(async () => {
      ({ db, drop } = await createTestDatabase(dialect));
      user = await createUser(db, DEFAULT_TENANT_ID, 'carol', 'carols long password');
    });
    after(async () => drop());

    const start = (now: Date) => createSession(db, { userId: user.id, tenantId: DEFAULT_TENANT_ID, ttlMinutes: TTL_MINUTES, now });

    test('only the SHA-256 of the session id is stored', async () => {
      const { id, session } = await start(new Date());
      assert.match(id, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
      const rows = await db.query<{ id_hash: string }>('SELECT id_hash FROM sessions WHERE id_hash = ?', [session.idHash]);
      assert.equal(rows[0]?.id_hash, hashSessionId(id));
      const leaked = await db.query('SELECT id_hash FROM sessions WHERE id_hash = ?', [id]);
      assert.equal(leaked.length, 0);
    });

    test('use slides the expiry forward, rewriting the row at most once a minute', async () => {
      const t0 = new Date(Date.UTC(2030, 0, 1, 12, 0, 0));
      const { id } = await start(t0);
      const early = await lookupSession(db, id, { ttlMinutes: TTL_MINUTES, now: new Date(t0.getTime() + 30_000) });
      assert.equal(early?.extended, false);
      assert.equal(early?.expiresAt, new Date(t0.getTime() + minutes(TTL_MINUTES)).toISOString());

      const later = new Date(t0.getTime() + minutes(20));
      const slid = await lookupSession(db, id, { ttlMinutes: TTL_MINUTES, now: later });
      assert.equal(slid?.extended, true);
      assert.equal(slid?.expiresAt, new Date(later.getTime() + minutes(TTL_MINUTES)).toISOString());

      // Past the original expiry but inside the slid one: still valid.
      const afterOriginal = new Date(t0.getTime() + minutes(TTL_MINUTES + 5));
      assert.equal((await lookupSession(db, id, { ttlMinutes: TTL_MINUTES, now: afterOriginal }))?.userId, user.id);
    });

    test('an expired session is not found and is purged', async () => {
      const t0 = new Date(Date.UTC(2031, 0, 1));
      const { id } = await start(t0);
      const expired = new Date(t0.getTime() + minutes(TTL_MINUTES) + 1);
      assert.equal(await lookupSession(db, id, { ttlMinutes: TTL_MINUTES, now: expired }), undefined);
      const purged = await purgeExpiredSessions(db, expired);
      assert.ok(purged >= 1);
      const rows = await db.query('SELECT id_hash FROM sessions WHERE id_hash = ?', [hashSessionId(id)]);
      assert.equal(rows.length, 0);
    });

    test('logout deletes the session', async () => {
      const now = new Date();
      const { id } = await start(now);
      await deleteSession(db, id);
      assert.equal(await lookupSession(db, id, { ttlMinutes: TTL_MINUTES, now }), undefined);
    });

    test('a session of a soft-deleted user is not found', async () => {
      const dave = await createUser(db, DEFAULT_TENANT_ID, 'dave', 'daves long password');
      const now = new Date();
      const { id } = await createSession(db, { userId: dave.id, tenantId: DEFAULT_TENANT_ID, ttlMinutes: TTL_MINUTES, now });
      await db.execute('UPDATE users SET deleted_at = ? WHERE id = ?', [now, dave.id]);
      assert.equal(await lookupSession(db, id, { ttlMinutes: TTL_MINUTES, now }), undefined);
    });
  });
}
