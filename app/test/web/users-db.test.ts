import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, DIALECTS } from '../support/databases.js';
import { countUsers, createUser, getUser, verifyUserPassword } from '../../src/db/users.js';
import { DEFAULT_TENANT_ID, type Database } from '../../src/db/types.js';
import { UserError } from '../../src/errors.js';

for (const dialect of DIALECTS) {
  describe(`users on ${dialect}`, () => {
    let db: Database;
    let drop: () => Promise<void>;
    before(async () => {
      ({ db, drop } = await createTestDatabase(dialect));
    });
    after(async () => drop());

    test('a created user logs in with its password, records the login, and is counted', async () => {
      assert.equal(await countUsers(db), 0);
      const created = await createUser(db, DEFAULT_TENANT_ID, 'alice', 'a long enough password', { isAdmin: true });
      assert.equal(created.username, 'alice');
      assert.equal(created.isAdmin, true);
      assert.equal(created.lastLoginAt, null);
      assert.equal(await countUsers(db), 1);

      const loggedIn = await verifyUserPassword(db, 'alice', 'a long enough password');
      assert.equal(loggedIn?.id, created.id);
      const reread = await getUser(db, created.id);
      assert.ok(reread?.lastLoginAt, 'last_login_at is set after a successful login');
      assert.equal(reread.lastLoginAt, loggedIn?.lastLoginAt);
    });

    test('a wrong password or an unknown username is refused without saying which', async () => {
      assert.equal(await verifyUserPassword(db, 'alice', 'not the password'), undefined);
      assert.equal(await verifyUserPassword(db, 'nobody', 'a long enough password'), undefined);
    });

    test('a duplicate username and a short password are refused with a UserError', async () => {
      await assert.rejects(createUser(db, DEFAULT_TENANT_ID, 'alice', 'another long password'), (error: unknown) =>
        error instanceof UserError && /already exists/.test(error.message),
      );
      await assert.rejects(createUser(db, DEFAULT_TENANT_ID, 'bob', 'short'), (error: unknown) =>
        error instanceof UserError && /too short/.test(error.message),
      );
    });

    test('a soft-deleted user can neither log in nor be fetched nor counted', async () => {
      const bob = await createUser(db, DEFAULT_TENANT_ID, 'bob', 'bobs long password');
      const before = await countUsers(db);
      await db.execute('UPDATE users SET deleted_at = ? WHERE id = ?', [new Date(), bob.id]);
      assert.equal(await verifyUserPassword(db, 'bob', 'bobs long password'), undefined);
      assert.equal(await getUser(db, bob.id), undefined);
      assert.equal(await countUsers(db), before - 1);
    });
  });
}
