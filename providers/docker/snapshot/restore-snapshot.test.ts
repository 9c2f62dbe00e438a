import assert from 'node:assert/strict';
import { test } from 'node:test';
import { restoreInstructions } from './restore-snapshot.js';

test('the restore procedure names the file, its checksum check, a restore into a new database and the swap', () => {
  const text = restoreInstructions(
    {
      stack: 'prod',
      database: { container: 'tk-prod-postgres', name: 'trapperkeeper', user: 'tk' },
      snapshots: { dir: '/var/lib/postgresql/snapshots', retentionDays: 7, lockWaitTimeoutMs: 30_000 },
    },
    { name: 'trapperkeeper_20261123T101507Z_3f2a9c1d.dump', takenAt: new Date('2026-11-23T10:15:07Z'), commit: '3f2a9c1d', sha256: 'ab'.repeat(32) },
  );
  assert.equal(
    text,
    [
      "Rolling back the app does not roll back the database. The snapshot taken before this release's migrations is",
      `  /var/lib/postgresql/snapshots/trapperkeeper_20261123T101507Z_3f2a9c1d.dump in container tk-prod-postgres (taken 2026-11-23T10:15:07.000Z, commit 3f2a9c1d, sha256 ${'ab'.repeat(32)}).`,
      'To restore it (every write since 2026-11-23T10:15:07.000Z is lost):',
      "  1. check it:  docker exec tk-prod-postgres sh -c 'cd /var/lib/postgresql/snapshots && sha256sum -c trapperkeeper_20261123T101507Z_3f2a9c1d.dump.sha256'",
      '  2. restore it into a new database:',
      '       docker exec tk-prod-postgres createdb --username=tk trapperkeeper_restored_20261123t101507z',
      '       docker exec tk-prod-postgres pg_restore --username=tk --dbname=trapperkeeper_restored_20261123t101507z --exit-on-error --single-transaction /var/lib/postgresql/snapshots/trapperkeeper_20261123T101507Z_3f2a9c1d.dump',
      '  3. stop the app containers (nothing may stay connected to trapperkeeper), then swap the databases:',
      `       docker exec tk-prod-postgres psql --username=tk --dbname=postgres -c 'ALTER DATABASE "trapperkeeper" RENAME TO "trapperkeeper_before_restore_20261123t101507z"' -c 'ALTER DATABASE "trapperkeeper_restored_20261123t101507z" RENAME TO "trapperkeeper"'`,
      '  4. run the app version built from commit 3f2a9c1d (pulumi config set --path release.rollbackTo <release> --stack prod && pulumi up --stack prod), and keep trapperkeeper_before_restore_20261123t101507z until you are sure.',
    ].join('\n'),
  );
});
