import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { openDatabase, parseDatabaseUrl, redactDatabaseUrl } from '../../src/db/connect.js';
import { UserError } from '../../src/errors.js';

describe('database URLs', () => {
  test('picks SQLite for sqlite:// relative and sqlite:/// absolute URLs and for a plain path', () => {
    assert.deepEqual(parseDatabaseUrl('sqlite://data/tk.db'), { driver: 'sqlite', path: resolve('data/tk.db') });
    assert.deepEqual(parseDatabaseUrl('sqlite:///var/lib/tk/tk.db'), { driver: 'sqlite', path: '/var/lib/tk/tk.db' });
    assert.deepEqual(parseDatabaseUrl('./tk.db'), { driver: 'sqlite', path: resolve('tk.db') });
    assert.deepEqual(parseDatabaseUrl('/abs/tk.db'), { driver: 'sqlite', path: '/abs/tk.db' });
    assert.deepEqual(parseDatabaseUrl('sqlite::memory:'), { driver: 'sqlite', path: ':memory:' });
  });

  test('picks PostgreSQL for postgres:// and postgresql://, MySQL for mysql://', () => {
    assert.equal(parseDatabaseUrl('postgres://u:p@db:5432/tk').driver, 'postgres');
    assert.equal(parseDatabaseUrl('postgresql://db/tk').driver, 'postgres');
    assert.equal(parseDatabaseUrl('mysql://root@db:3306/tk').driver, 'mysql');
  });

  test('refuses an unknown scheme with a UserError naming it and the accepted ones, without the password', async () => {
    const error = await openDatabase('redis://user:hunter2@cache:6379/0').then(
      () => assert.fail('should refuse'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof UserError);
    assert.match(error.message, /"redis:"/);
    assert.ok(!error.message.includes('hunter2'));
    assert.match(error.fix ?? '', /sqlite:\/\/.*postgres:\/\/.*postgresql:\/\/.*mysql:\/\//);
  });

  test('redacts the password, and only the password', () => {
    assert.equal(redactDatabaseUrl('postgres://tk:s3cret@db.internal:5432/tk?sslmode=require'), 'postgres://tk:***@db.internal:5432/tk?sslmode=require');
    assert.equal(redactDatabaseUrl('mysql://root:p@ss@w0rd@127.0.0.1/tk'), 'mysql://root:***@127.0.0.1/tk');
    assert.equal(redactDatabaseUrl('postgres://tk@db/tk'), 'postgres://tk@db/tk');
    assert.equal(redactDatabaseUrl('postgres://db/tk?user=tk&password=s3cret'), 'postgres://db/tk?user=tk&password=***');
    assert.equal(redactDatabaseUrl('sqlite:///var/lib/tk.db'), 'sqlite:///var/lib/tk.db');
  });

  test('a database CA applies to PostgreSQL only: with another database it is a UserError naming the fix', async () => {
    const error = await openDatabase('mysql://root:hunter2@127.0.0.1:3306/tk', {}, { ca: '-----BEGIN CERTIFICATE-----' }).then(
      () => assert.fail('should refuse'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof UserError);
    assert.match(error.message, /not a PostgreSQL URL/);
    assert.ok(!error.message.includes('hunter2'));
    assert.match(error.fix ?? '', /TK_DATABASE_CA/);
  });

  test('opens an in-memory SQLite database that answers queries', async () => {
    const db = await openDatabase('sqlite::memory:');
    try {
      assert.equal(db.dialect, 'sqlite');
      assert.deepEqual(await db.query('SELECT 1 + ? AS n', [1]), [{ n: 2 }]);
    } finally {
      await db.close();
    }
  });
});
