import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeployError } from '../../../components/errors.js';
import type { SnapshotSpec } from './snapshot-commands.js';
import { planSnapshot } from './take-snapshot.js';

const spec: SnapshotSpec = {
  database: { container: 'tk-dev-postgres', name: 'trapperkeeper', user: 'tk' },
  snapshots: { dir: '/var/lib/postgresql/snapshots/', retentionDays: 7, lockWaitTimeoutMs: 30_000 },
};
const now = new Date('2026-11-23T10:15:07.891Z');

test('an attempt dumps to a partial file, reads it fully, checksums it, then publishes it', () => {
  const plan = planSnapshot(spec, { commit: '3f2a9c1d', now, timeoutMs: 600_000 });
  const dir = '/var/lib/postgresql/snapshots';
  const stem = `${dir}/trapperkeeper_20261123T101507Z_3f2a9c1d`;
  assert.equal(plan.name, 'trapperkeeper_20261123T101507Z_3f2a9c1d.dump');
  assert.equal(plan.path, `${stem}.dump`);
  assert.deepEqual(plan.takenAt, new Date('2026-11-23T10:15:07Z'));
  assert.deepEqual(plan.commands, {
    inspect: ['container', 'inspect', '--format', '{{json .State.Running}} {{json .Mounts}}', 'tk-dev-postgres'],
    dump: [
      'exec', 'tk-dev-postgres', 'sh', '-c', 'umask 077 && exec "$@"', 'sh',
      'timeout', '--kill-after=10s', '600s',
      'pg_dump', '--format=custom', '--lock-wait-timeout=30000', '--no-password', '--username=tk', '--dbname=trapperkeeper',
      `--file=${stem}.dump.partial`,
    ],
    read: ['exec', 'tk-dev-postgres', 'pg_restore', '--file=/dev/null', `${stem}.dump.partial`],
    sha256: ['exec', 'tk-dev-postgres', 'sha256sum', '--', `${stem}.dump.partial`],
    size: ['exec', 'tk-dev-postgres', 'stat', '--format=%s', '--', `${stem}.dump.partial`],
    writeChecksum: ['exec', 'tk-dev-postgres', 'sh', '-c', 'umask 077 && set -C && printf %s "$2" > "$1"', 'sh', `${stem}.dump.sha256`],
    publish: ['exec', 'tk-dev-postgres', 'ln', '--no-target-directory', '--', `${stem}.dump.partial`, `${stem}.dump`],
    removePartial: ['exec', 'tk-dev-postgres', 'rm', '-f', '--', `${stem}.dump.partial`],
    writeFailure: ['exec', 'tk-dev-postgres', 'sh', '-c', 'umask 077 && set -C && printf %s "$2" > "$1"', 'sh', `${stem}.dump.failed`],
  });
});

test('no snapshot command carries a host, a password or a connection URL: all run over the local socket', () => {
  const plan = planSnapshot(spec, { commit: '3f2a9c1d', now });
  for (const args of Object.values(plan.commands)) {
    for (const arg of args) {
      assert.doesNotMatch(arg, /PGPASSWORD|password=|postgres(ql)?:\/\/|^--host|^-h$|^-W$|^--password$/i, arg);
    }
  }
  assert.ok(plan.commands.dump.includes('--no-password'), 'pg_dump fails rather than prompt for a password');
});

test('unsafe names are refused before any command is built', () => {
  assert.throws(() => planSnapshot(spec, { commit: '3f2a; rm -rf /', now }), DeployError);
  assert.throws(() => planSnapshot({ ...spec, snapshots: { ...spec.snapshots, dir: 'snapshots' } }, { commit: 'abc', now }), /snapshots\.dir "snapshots" must be an absolute/);
  assert.throws(() => planSnapshot({ ...spec, snapshots: { ...spec.snapshots, dir: '/var/../tmp' } }, { commit: 'abc', now }), /snapshots\.dir/);
  assert.throws(() => planSnapshot({ ...spec, database: { ...spec.database, name: 'tk/../x' } }, { commit: 'abc', now }), /database\.name/);
});
