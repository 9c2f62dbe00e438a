import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HMAC_SECRET_GENERATE_HINT } from '../auth/hmac-secrets.js';
import { UserError } from '../errors.js';
import { readHmacSecrets, requireHmacSecrets } from './hmac-secrets-env.js';
import { formatProblem } from './problems.js';

const id = (digit: string) => digit.repeat(32);
/** 32 bytes that look random (a hash of `seed`), the same for the same seed. */
const secretBytes = (seed: number) => createHash('sha256').update(`secret ${seed}`).digest();
const secretText = (seed: number) => secretBytes(seed).toString('base64');
const hmac = (digit: string, fill: number) => `${id(digit)}:${secretText(fill)}`;

describe('readHmacSecrets', () => {
  test('the primary comes first, then the numbered older secrets in number order (10 after 2)', () => {
    const { secrets, problems } = readHmacSecrets({
      TK_HMAC_SECRET_10: hmac('d', 4),
      TK_HMAC_SECRET_2: hmac('c', 3),
      TK_HMAC_SECRET: hmac('a', 1),
      TK_HMAC_SECRET_1: hmac('b', 2),
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(secrets.map((s) => s.id), [id('a'), id('b'), id('c'), id('d')]);
    assert.deepEqual(secrets[2]?.secret, secretBytes(3));
  });

  test('no secret at all is allowed at load time', () => {
    assert.deepEqual(readHmacSecrets({}), { secrets: [], problems: [] });
  });

  test('a malformed secret names the variable, says how to generate one, and never echoes the value', () => {
    const short = `${id('a')}:${Buffer.alloc(8, 9).toString('base64')}`;
    const { secrets, problems } = readHmacSecrets({ TK_HMAC_SECRET: 'just-a-password', TK_HMAC_SECRET_1: short });
    assert.deepEqual(secrets, []);
    assert.deepEqual(problems.map((p) => `${p.key} (${p.source})`), ['hmac_secret (env TK_HMAC_SECRET)', 'hmac_secret_1 (env TK_HMAC_SECRET_1)']);
    for (const p of problems) assert.equal(p.fix, HMAC_SECRET_GENERATE_HINT);
    assert.match(problems[1]?.problem ?? '', /decodes to 8 bytes/);
    const text = problems.map(formatProblem).join('\n');
    assert.doesNotMatch(text, /just-a-password/);
    assert.ok(!text.includes(short.split(':')[1] ?? '<none>'));
  });

  test('a secret without entropy (all zeros, one repeated byte, a short pattern) is refused, primary and older ones alike', () => {
    const allZero = Buffer.alloc(32).toString('base64');
    const oneByte = Buffer.alloc(48, 0x5a).toString('base64');
    const pattern = Buffer.from('0123456789abcd'.repeat(3)).toString('base64'); // 42 bytes, 14 values
    const { secrets, problems } = readHmacSecrets({
      TK_HMAC_SECRET: `${id('a')}:${allZero}`,
      TK_HMAC_SECRET_1: `${id('b')}:${oneByte}`,
      TK_HMAC_SECRET_2: `${id('c')}:${pattern}`,
      TK_HMAC_SECRET_3: hmac('d', 4),
    });
    assert.deepEqual(secrets.map((s) => s.id), [id('d')]);
    assert.deepEqual(problems.map((p) => p.source), ['env TK_HMAC_SECRET', 'env TK_HMAC_SECRET_1', 'env TK_HMAC_SECRET_2']);
    assert.match(problems[0]?.problem ?? '', /only 1 different byte value \(all zeros, one repeated byte or a short pattern\)/);
    assert.match(problems[2]?.problem ?? '', /only 14 different byte values.*at least 16/);
    for (const p of problems) assert.equal(p.fix, HMAC_SECRET_GENERATE_HINT);
    const text = problems.map(formatProblem).join('\n');
    for (const value of [allZero, oneByte, pattern]) assert.ok(!text.includes(value), 'the value is never echoed');
  });

  test('a secret of 16 different byte values is the least accepted', () => {
    const sixteen = Buffer.from(Array.from({ length: 32 }, (_, i) => i % 16)).toString('base64');
    const fifteen = Buffer.from(Array.from({ length: 32 }, (_, i) => i % 15)).toString('base64');
    assert.deepEqual(readHmacSecrets({ TK_HMAC_SECRET: `${id('a')}:${sixteen}` }).problems, []);
    assert.equal(readHmacSecrets({ TK_HMAC_SECRET: `${id('a')}:${fifteen}` }).problems.length, 1);
  });

  test('a second secret with the same id is rejected, naming both variables', () => {
    const { secrets, problems } = readHmacSecrets({ TK_HMAC_SECRET: hmac('a', 1), TK_HMAC_SECRET_1: hmac('a', 2) });
    assert.deepEqual(secrets.map((s) => s.id), [id('a')]);
    assert.equal(problems.length, 1);
    assert.match(formatProblem(problems[0]!), /^hmac_secret_1 \(env TK_HMAC_SECRET_1\): has the same secret id a{32} as TK_HMAC_SECRET;/);
  });

  test('older secrets without a primary are an error asking for TK_HMAC_SECRET', () => {
    const { problems } = readHmacSecrets({ TK_HMAC_SECRET_1: hmac('b', 2) });
    assert.equal(problems.length, 1);
    assert.match(formatProblem(problems[0]!), /^hmac_secret \(env TK_HMAC_SECRET\): is not set, but older secrets are \(TK_HMAC_SECRET_1\)/);
  });

  test('rotation variables not numbered from 1 are rejected', () => {
    const { problems } = readHmacSecrets({ TK_HMAC_SECRET: hmac('a', 1), TK_HMAC_SECRET_0: hmac('b', 2), TK_HMAC_SECRET_OLD: hmac('c', 3) });
    assert.deepEqual(problems.map((p) => p.source), ['env TK_HMAC_SECRET_0', 'env TK_HMAC_SECRET_OLD']);
    assert.match(problems[0]?.fix ?? '', /TK_HMAC_SECRET_1, TK_HMAC_SECRET_2/);
  });
});

describe('requireHmacSecrets', () => {
  test('returns the configured secrets', () => {
    const secrets = readHmacSecrets({ TK_HMAC_SECRET: hmac('a', 1) }).secrets;
    assert.equal(requireHmacSecrets({ hmacSecrets: secrets }), secrets);
  });

  test('throws a UserError with the generate hint when none is configured', () => {
    assert.throws(
      () => requireHmacSecrets({ hmacSecrets: [] }),
      (error: unknown) => error instanceof UserError && /TK_HMAC_SECRET/.test(error.message) && error.fix === HMAC_SECRET_GENERATE_HINT,
    );
  });
});
