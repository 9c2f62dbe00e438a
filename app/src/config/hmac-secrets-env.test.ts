import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HMAC_SECRET_GENERATE_HINT } from '../auth/hmac-secrets.js';
import { UserError } from '../errors.js';
import { readHmacSecrets, requireHmacSecrets } from './hmac-secrets-env.js';
import { formatProblem } from './problems.js';

const id = (digit: string) => digit.repeat(32);
const secretText = (fill: number) => Buffer.alloc(32, fill).toString('base64');
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
    assert.deepEqual(secrets[2]?.secret, Buffer.alloc(32, 3));
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
