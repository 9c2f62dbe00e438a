import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeConfig } from './describe.js';
import { loadConfig } from './load.js';

test('the summary masks the database password, lists HMAC secrets by id only, and keeps the rest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-describe-'));
  try {
    const primaryBytes = randomBytes(32);
    const primary = primaryBytes.toString('base64');
    const older = randomBytes(40).toString('base64');
    const config = loadConfig({
      env: {
        TK_HMAC_SECRET: `${'1'.repeat(32)}:${primary}`,
        TK_HMAC_SECRET_1: `${'2'.repeat(32)}:${older}`,
        TK_DATABASE_PASSWORD: 'db-pass-XYZ',
        TK_DATABASE_URL: 'postgres://tk@db.internal:5432/tk',
      },
      cwd: dir,
      homeDir: dir,
      etcDir: dir,
    });
    const summary = describeConfig(config);
    assert.equal(summary.database.location, 'postgres://tk:***@db.internal:5432/tk');
    assert.deepEqual(summary.hmacSecretIds, ['1'.repeat(32), '2'.repeat(32)]);
    assert.equal(summary.sensorApi.port, config.sensorApi.port);
    assert.equal(summary.database.maxConnections, config.database.maxConnections);
    assert.equal(summary.origins['database.url'], 'env TK_DATABASE_URL + env TK_DATABASE_PASSWORD');
    const printed = JSON.stringify(summary);
    for (const secret of ['db-pass-XYZ', primary, older, primaryBytes.toString('hex')]) {
      assert.ok(!printed.includes(secret), 'a secret reached the summary');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the summary names how many database CA certificates are set instead of printing them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-describe-'));
  try {
    const ca = readFileSync(new URL('../../test/fixtures/test-ca.pem', import.meta.url), 'utf8');
    const config = loadConfig({ env: { TK_DATABASE_URL: 'postgres://tk@db.internal:5432/tk?sslmode=verify-full', TK_DATABASE_CA: `${ca}${ca}` }, cwd: dir, homeDir: dir, etcDir: dir });
    assert.equal(describeConfig(config).database.ca, '2 PEM certificates');
    assert.equal(describeConfig(loadConfig({ env: {}, cwd: dir, homeDir: dir, etcDir: dir })).database.ca, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
