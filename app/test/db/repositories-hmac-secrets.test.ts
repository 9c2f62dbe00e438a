import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';
import { hmacSecretFingerprint } from '../../src/auth/hmac-secrets.js';
import { listRecordedHmacSecrets, recordHmacSecrets } from '../../src/db/hmac-secrets.js';
import { UserError } from '../../src/errors.js';
import { SECRET_A, SECRET_B } from '../grpc/fixtures.js';

for (const dialect of DIALECTS) {
  describe(`HMAC secret records on ${dialect}`, () => {
    let test_: TestDatabase;
    before(async () => {
      test_ = await createTestDatabase(dialect);
    });
    after(async () => {
      await test_?.drop();
    });

    test('configured secrets are recorded by id and fingerprint, never the secret', async () => {
      await recordHmacSecrets(test_.db, [SECRET_A]);
      await recordHmacSecrets(test_.db, [SECRET_A, SECRET_B]);
      assert.deepEqual((await listRecordedHmacSecrets(test_.db)).map((s) => s.id).sort(), [SECRET_A.id, SECRET_B.id]);
      const rows = await test_.db.query<{ id: string; secret_hash: string }>('SELECT id, secret_hash FROM hmac_secrets WHERE id = ?', [SECRET_A.id]);
      assert.equal(rows[0]?.secret_hash, hmacSecretFingerprint(SECRET_A));
      assert.ok(!JSON.stringify(rows).includes(SECRET_A.secret.toString('base64')));
    });

    test('a different secret under a recorded id refuses to start, recording nothing', async () => {
      const changed = { id: SECRET_A.id, secret: Buffer.alloc(32, 99) };
      const newcomer = { id: 'cccccccccccccccccccccccccccccccc', secret: Buffer.alloc(32, 3) };
      await assert.rejects(recordHmacSecrets(test_.db, [newcomer, changed]), (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.match(error.message, new RegExp(`HMAC secret with id ${SECRET_A.id} changed`));
        assert.match(error.fix ?? '', /new id/i);
        return true;
      });
      assert.ok(!(await listRecordedHmacSecrets(test_.db)).some((s) => s.id === newcomer.id));
    });
  });
}
