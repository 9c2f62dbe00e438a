import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { CANARY, promiseOf } from './docker/testing.js';
import { asPulumiSecrets, loadStackEnvFile, resolveSecretValues, type SecretSources } from './stack-secrets.js';

const OTHER_HMAC = `abcdefabcdefabcdefabcdefabcdefab:${Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 29 + 7) % 256)).toString('base64')}`;

function sources(overrides: Partial<SecretSources>): SecretSources {
  return { config: {}, plaintextConfigKeys: new Set(), processEnv: {}, envFile: { path: '.env.dev', values: {} }, ...overrides };
}

describe('stack secrets', () => {
  it('takes the stack config first, then the process environment, then .env.<stack>', () => {
    const fromAll = resolveSecretValues(
      sources({
        config: { postgresPassword: 'from-config-password' },
        processEnv: { TK_POSTGRES_PASSWORD: 'from-process-env', TK_HMAC_SECRET: CANARY.hmacSecret },
        envFile: { path: '.env.dev', values: { TK_POSTGRES_PASSWORD: 'from-env-file-xx', TK_HMAC_SECRET: OTHER_HMAC } },
      }),
      'dev',
    );
    assert.deepEqual(fromAll, { values: { postgresPassword: 'from-config-password', hmacSecret: CANARY.hmacSecret }, problems: [] });

    const fromFile = resolveSecretValues(
      sources({ envFile: { path: '.env.dev', values: { TK_POSTGRES_PASSWORD: 'from-env-file-xx', TK_HMAC_SECRET: OTHER_HMAC } } }),
      'dev',
    );
    assert.deepEqual(fromFile.values, { postgresPassword: 'from-env-file-xx', hmacSecret: OTHER_HMAC });
  });

  it('treats an empty value as unset', () => {
    const result = resolveSecretValues(sources({ processEnv: { TK_POSTGRES_PASSWORD: '  ', TK_HMAC_SECRET: CANARY.hmacSecret } }), 'dev');
    assert.equal(result.values, undefined);
    assert.deepEqual(result.problems.map((p) => p.path), ['postgresPassword']);
  });

  it('refuses a short database password', () => {
    const result = resolveSecretValues(sources({ processEnv: { TK_POSTGRES_PASSWORD: 'short', TK_HMAC_SECRET: CANARY.hmacSecret } }), 'dev');
    assert.deepEqual(result.problems.map((p) => `${p.path}: ${p.problem}`), ['postgresPassword: must be at least 12 characters']);
  });

  it('refuses an HMAC secret that decodes to fewer than 32 bytes', () => {
    const short = `0123456789abcdef0123456789abcdef:${Buffer.alloc(16).toString('base64')}`;
    const result = resolveSecretValues(sources({ processEnv: { TK_POSTGRES_PASSWORD: CANARY.postgresPassword, TK_HMAC_SECRET: short } }), 'dev');
    assert.deepEqual(result.problems.map((p) => p.problem), ['is malformed: the secret decodes to 16 bytes; at least 32 are required']);
  });

  it('reads .env.<stack> without changing process.env, and a missing file is empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tk-secrets-'));
    try {
      writeFileSync(join(dir, '.env.staging'), `# comment\nTK_POSTGRES_PASSWORD="quoted value here"\nTK_TEST_ONLY_MARKER=1\n`);
      const loaded = loadStackEnvFile('staging', dir);
      assert.deepEqual(loaded, { path: join(dir, '.env.staging'), values: { TK_POSTGRES_PASSWORD: 'quoted value here', TK_TEST_ONLY_MARKER: '1' } });
      assert.equal(process.env.TK_TEST_ONLY_MARKER, undefined);
      assert.deepEqual(loadStackEnvFile('prod', dir).values, {});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('wraps every value as a Pulumi secret', async () => {
    const secrets = asPulumiSecrets({ postgresPassword: CANARY.postgresPassword, hmacSecret: CANARY.hmacSecret });
    for (const output of Object.values(secrets)) assert.equal(await pulumi.isSecret(output), true);
    assert.equal(await promiseOf(secrets.postgresPassword), CANARY.postgresPassword);
  });
});
