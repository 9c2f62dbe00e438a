import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { deriveCsrfKey, issueCsrfToken, verifyCsrfToken, type CsrfBinding } from './csrf.js';

const key = deriveCsrfKey({ id: 'a'.repeat(32), secret: randomBytes(32) });
const mine: CsrfBinding = { kind: 'session', id: 'session-one' };

test('a token verifies for the session it was issued to', () => {
  const token = issueCsrfToken(key, mine);
  assert.equal(verifyCsrfToken(key, mine, token), true);
});

test('each token carries a fresh nonce', () => {
  assert.notEqual(issueCsrfToken(key, mine), issueCsrfToken(key, mine));
});

test("another session's token, or a pre-session token with the same id, is refused", () => {
  const token = issueCsrfToken(key, mine);
  assert.equal(verifyCsrfToken(key, { kind: 'session', id: 'session-two' }, token), false);
  assert.equal(verifyCsrfToken(key, { kind: 'pre-session', id: 'session-one' }, token), false);
});

test('a token signed under another key is refused', () => {
  const otherKey = deriveCsrfKey({ id: 'b'.repeat(32), secret: randomBytes(32) });
  assert.equal(verifyCsrfToken(key, mine, issueCsrfToken(otherKey, mine)), false);
});

test('missing, malformed and tampered tokens are refused', () => {
  const token = issueCsrfToken(key, mine);
  const [nonce, signature] = token.split('.') as [string, string];
  const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
  for (const bad of [undefined, '', 'no-dot', `${nonce}.`, `.${signature}`, `${nonce}.${flipped}`,
    `x${nonce}.${signature}`, `${token}.extra`, ['array'], 'a'.repeat(500)]) {
    assert.equal(verifyCsrfToken(key, mine, bad), false, `refuses ${JSON.stringify(bad)}`);
  }
});

test('the derived key differs from the secret it comes from', () => {
  const secret = randomBytes(32);
  assert.notDeepEqual(Buffer.from(deriveCsrfKey({ id: 'c'.repeat(32), secret })), secret);
});
