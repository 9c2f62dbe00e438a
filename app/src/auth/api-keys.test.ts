import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { API_KEY_LENGTH, apiKeyHashesEqual, generateApiKey, hashApiKey, parseApiKey } from './api-keys.js';
import type { HmacSecret } from './hmac-secrets.js';

const secret: HmacSecret = { id: '0123456789abcdef0123456789abcdef', secret: Buffer.alloc(32, 7) };
const otherSecret: HmacSecret = { id: 'fedcba9876543210fedcba9876543210', secret: Buffer.alloc(32, 9) };

describe('API keys', () => {
  test('a generated key has the tk-v1 format, carries its secret id and is random', () => {
    const key = generateApiKey(secret);
    assert.match(key, /^tk-v1-0123456789abcdef0123456789abcdef-[0-9a-f]{64}$/);
    assert.equal(key.length, API_KEY_LENGTH);
    assert.equal(API_KEY_LENGTH, 103);
    assert.notEqual(generateApiKey(secret), key);
  });

  test('parseApiKey returns the secret id of a well-formed key', () => {
    assert.deepEqual(parseApiKey(generateApiKey(otherSecret)), { secretId: otherSecret.id });
  });

  test('parseApiKey rejects malformed keys', () => {
    const good = generateApiKey(secret);
    const malformed = [
      '',
      'tk-v1-',
      good.toUpperCase(),
      good.replace('tk-v1-', 'tk-v2-'),
      good.slice(0, -1),
      `${good}0`,
      ` ${good}`,
      good.replace(/-([0-9a-f]{64})$/, '_$1'),
      good.slice(0, -1) + 'g',
    ];
    for (const text of malformed) assert.equal(parseApiKey(text), undefined, text);
  });

  test('hashApiKey is HMAC-SHA256 of the whole key under the secret', () => {
    const key = generateApiKey(secret);
    const expected = createHmac('sha256', secret.secret).update(key).digest('hex');
    assert.equal(hashApiKey(key, secret), expected);
    assert.match(expected, /^[0-9a-f]{64}$/);
    const sameIdOtherBytes: HmacSecret = { id: secret.id, secret: Buffer.alloc(32, 8) };
    assert.notEqual(hashApiKey(key, sameIdOtherBytes), expected);
  });

  test('hashing a key under a secret other than the one it names is refused', () => {
    assert.throws(() => hashApiKey(generateApiKey(secret), otherSecret), /hashed under secret/);
  });

  test('apiKeyHashesEqual compares exactly, including lengths', () => {
    const hash = hashApiKey(generateApiKey(secret), secret);
    assert.equal(apiKeyHashesEqual(hash, `${hash}`), true);
    assert.equal(apiKeyHashesEqual(hash, hash.slice(0, -1) + (hash.endsWith('0') ? '1' : '0')), false);
    assert.equal(apiKeyHashesEqual(hash, hash.slice(0, 10)), false);
  });
});
