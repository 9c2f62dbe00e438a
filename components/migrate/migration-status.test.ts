import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outputTail, parseAppliedMigrations, parseFailedMigration, parseMigrationStatus, summarizeMigrationStatus } from './migration-status.js';

test('the status array is found among log lines and grouped by state', () => {
  const stdout = [
    '{"level":30,"msg":"connected"}',
    JSON.stringify([
      { id: '001_initial', status: 'applied', checksum: 'a' },
      { id: '002_rules', status: 'checksum-mismatch', checksum: 'b', recordedChecksum: 'c' },
      { id: '003_index', status: 'failed', checksum: 'd', error: 'boom' },
      { id: '004_users', status: 'pending', checksum: 'e' },
      { id: '005_more', status: 'pending', checksum: 'f' },
    ]),
  ].join('\n');
  const statuses = parseMigrationStatus(stdout);
  assert.ok(statuses);
  assert.deepEqual(summarizeMigrationStatus(statuses), {
    pending: ['004_users', '005_more'],
    failed: ['003_index'],
    changed: ['002_rules'],
    running: [],
    statuses: [
      { id: '001_initial', status: 'applied' },
      { id: '002_rules', status: 'checksum-mismatch' },
      { id: '003_index', status: 'failed', error: 'boom' },
      { id: '004_users', status: 'pending' },
      { id: '005_more', status: 'pending' },
    ],
  });
});

test('output without a status array, or with unknown states, is not a status', () => {
  assert.equal(parseMigrationStatus('{"level":50,"msg":"cannot connect"}'), undefined);
  assert.equal(parseMigrationStatus('[{"id":"001","status":"weird"}]'), undefined);
  assert.deepEqual(parseMigrationStatus('[]'), []);
});

test('applied ids come from the summary line', () => {
  assert.deepEqual(parseAppliedMigrations('{"msg":"x"}\napplied 2 migration(s): 002_a, 003_b\n'), ['002_a', '003_b']);
  assert.deepEqual(parseAppliedMigrations('schema is up to date (postgres://tk:***@db/tk)\n'), []);
  assert.equal(parseAppliedMigrations('something else'), undefined);
  assert.equal(parseFailedMigration('error: Migration 002_broken failed: statement 2 of 2 failed'), '002_broken');
});

test('the output tail keeps the last lines and blanks secrets', () => {
  const output = ['line 1', 'line 2', 'connecting to postgres://tk:hunter22@db/tk', 'password hunter22 rejected'].join('\n');
  assert.equal(
    outputTail(output, ['postgres://tk:hunter22@db/tk', 'hunter22'], 2),
    'connecting to [redacted]\npassword [redacted] rejected',
  );
});
