import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';
import { hashApiKey, parseApiKey } from '../../src/auth/api-keys.js';
import {
  createApiKey, findApiKeyByHash, listApiKeys, revokeApiKey, touchApiKeyLastUsed,
} from '../../src/db/api-keys.js';
import { DEFAULT_TENANT_ID } from '../../src/db/types.js';
import { UserError } from '../../src/errors.js';
import { SECRET_A, SECRET_B } from '../grpc/fixtures.js';

const T = DEFAULT_TENANT_ID;

for (const dialect of DIALECTS) {
  describe(`API key repository on ${dialect}`, () => {
    let test_: TestDatabase;
    before(async () => {
      test_ = await createTestDatabase(dialect);
    });
    after(async () => {
      await test_?.drop();
    });

    test('a created key is returned once and only its HMAC is stored', async () => {
      const { key, record } = await createApiKey(test_.db, T, 'sensor one', SECRET_A);
      assert.deepEqual(parseApiKey(key), { secretId: SECRET_A.id });
      assert.equal(record.name, 'sensor one');
      assert.equal(record.secretId, SECRET_A.id);
      assert.equal(record.lastUsedAt, null);
      assert.equal(record.revokedAt, null);
      const rows = await test_.db.query<{ key_hash: string }>('SELECT * FROM api_keys WHERE id = ?', [record.id]);
      assert.equal(rows[0]?.key_hash, hashApiKey(key, SECRET_A));
      assert.ok(!JSON.stringify(rows).includes(key), 'the plaintext key is nowhere in the row');
      assert.ok((await listApiKeys(test_.db, T)).some((listed) => listed.id === record.id && !('key' in listed)));
    });

    test('a key is found by its hash under the secret it names, and only that way', async () => {
      const { key, record } = await createApiKey(test_.db, T, 'findable', SECRET_B);
      const found = await findApiKeyByHash(test_.db, hashApiKey(key, SECRET_B));
      assert.equal(found?.id, record.id);
      assert.equal(found?.tenantId, T);
      const sameIdOtherSecret = { id: SECRET_B.id, secret: Buffer.alloc(32, 42) };
      assert.equal(await findApiKeyByHash(test_.db, hashApiKey(key, sameIdOtherSecret)), undefined);
      assert.equal(await findApiKeyByHash(test_.db, '0'.repeat(64)), undefined);
    });

    test('revoking marks the key revoked and keeps it listed', async () => {
      const { key, record } = await createApiKey(test_.db, T, 'to revoke', SECRET_A);
      assert.equal(await revokeApiKey(test_.db, T, record.id), true);
      assert.equal(await revokeApiKey(test_.db, T, record.id), true, 'revoking twice still finds the key');
      assert.equal(await revokeApiKey(test_.db, T, '00000000-0000-7000-8000-00000000dead'), false);
      assert.equal(await revokeApiKey(test_.db, '00000000-0000-7000-8000-0000000000ff', record.id), false);
      const found = await findApiKeyByHash(test_.db, hashApiKey(key, SECRET_A));
      assert.notEqual(found?.revokedAt, null);
      assert.notEqual((await listApiKeys(test_.db, T)).find((listed) => listed.id === record.id)?.revokedAt, null);
    });

    test('last use is written at most once a minute', async () => {
      const { key, record } = await createApiKey(test_.db, T, 'touched', SECRET_A);
      const t0 = new Date('2030-01-01T00:00:00.000Z');
      assert.equal(await touchApiKeyLastUsed(test_.db, record.id, t0), true);
      assert.equal(await touchApiKeyLastUsed(test_.db, record.id, new Date(t0.getTime() + 59_000)), false);
      const found = await findApiKeyByHash(test_.db, hashApiKey(key, SECRET_A));
      assert.equal(found?.lastUsedAt, t0.toISOString());
      assert.equal(await touchApiKeyLastUsed(test_.db, record.id, new Date(t0.getTime() + 61_000)), true);
      assert.equal((await findApiKeyByHash(test_.db, hashApiKey(key, SECRET_A)))?.lastUsedAt, '2030-01-01T00:01:01.000Z');
    });

    test('a key name must have 1-128 characters', async () => {
      await assert.rejects(createApiKey(test_.db, T, '  ', SECRET_A), UserError);
      await assert.rejects(createApiKey(test_.db, T, 'n'.repeat(129), SECRET_A), UserError);
    });
  });
}
