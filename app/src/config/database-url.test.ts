import { test } from 'node:test';
import assert from 'node:assert/strict';
import { databaseUrlHasPassword, databaseUrlProblem, withDatabasePassword } from './database-url.js';

test('supported schemes pass; unknown, missing or empty ones are explained without quoting the URL', () => {
  for (const url of ['sqlite:///a/b.db', 'sqlite://./rel.db', 'postgres://h/db', 'postgresql://u:p@h:1/db', 'mysql://h/db', 'MySQL://h/db']) {
    assert.equal(databaseUrlProblem(url), undefined, url);
  }
  assert.equal(databaseUrlProblem('redis://u:secret@h'), 'uses the unsupported scheme "redis:"');
  assert.match(databaseUrlProblem('/var/lib/tk.db') ?? '', /^has no scheme/);
  assert.equal(databaseUrlProblem('sqlite://'), 'names no SQLite file');
  assert.equal(databaseUrlProblem('postgres://'), 'names no host');
});

test('a password added to a URL is percent-encoded and detected afterwards', () => {
  const url = withDatabasePassword('mysql://root@127.0.0.1:3306/tk', 'a b@c');
  assert.equal(url, 'mysql://root:a%20b%40c@127.0.0.1:3306/tk');
  assert.equal(databaseUrlHasPassword(url), true);
  assert.equal(databaseUrlHasPassword('mysql://root@127.0.0.1:3306/tk'), false);
});
