import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findSecretsInFile } from './secrets-in-files.js';

test('keys ending in _secret, _key, _password or _token are found at any depth, arrays included', () => {
  const found = findSecretsInFile({
    hmac_secret: 'x',
    sensor_api: { port: 1, tls_key: 'x' },
    a: { b: { c: { db_password: 'x' } } },
    list: [{ name: 'n' }, { auth_token: 'x' }],
    password: 'x',
  });
  assert.deepEqual(found, ['hmac_secret', 'sensor_api.tls_key', 'a.b.c.db_password', 'list.1.auth_token', 'password']);
});

test('a database URL with a password, in the user info or the query, counts as a secret; one without does not', () => {
  assert.deepEqual(findSecretsInFile({ database: { url: 'postgres://u:p@h/db' } }), ['database.url']);
  assert.deepEqual(findSecretsInFile({ database: { url: 'mysql://u@h/db?password=p' } }), ['database.url']);
  assert.deepEqual(findSecretsInFile({ database: { url: 'postgres://u@h/db' } }), []);
  assert.deepEqual(findSecretsInFile({ database: { url: 'sqlite:///var/lib/tk/db' } }), []);
});

test('ordinary keys that merely contain the words are not secrets', () => {
  assert.deepEqual(findSecretsInFile({ keyring_path: '/x', tokens_per_minute: 3, web_ui: { session_ttl_minutes: 5 } }), []);
});
