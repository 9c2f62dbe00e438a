import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, verifyPassword } from './passwords.js';

test('a password hashes to an argon2id PHC string with a fresh salt each time', async () => {
  const first = await hashPassword('correct horse battery staple');
  const second = await hashPassword('correct horse battery staple');
  assert.match(first, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.notEqual(first, second);
});

test('verification accepts the right password and refuses a wrong one', async () => {
  const stored = await hashPassword('s3cret-pass');
  assert.equal(await verifyPassword(stored, 's3cret-pass'), true);
  assert.equal(await verifyPassword(stored, 's3cret-Pass'), false);
});

test('an unreadable stored hash verifies as false instead of throwing', async () => {
  assert.equal(await verifyPassword('not-a-phc-string', 'anything'), false);
});
