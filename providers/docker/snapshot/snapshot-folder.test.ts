import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SnapshotSpec } from './snapshot-commands.js';
import { describeSnapshotFolder, newestVerified } from './snapshot-folder.js';

const spec: SnapshotSpec = {
  database: { container: 'pg', name: 'tk', user: 'tk' },
  snapshots: { dir: '/snapshots', retentionDays: 7, lockWaitTimeoutMs: 30_000 },
};
const sha = (c: string) => c.repeat(64);

test('dumps with a checksum file naming them are verified; partials, failures and lone checksums are traces', () => {
  const listing = [
    '1000 /snapshots/tk_20261120T000000Z_aaa.dump',
    '80 /snapshots/tk_20261120T000000Z_aaa.dump.sha256',
    '2000 /snapshots/tk_20261121T000000Z_bbb.dump',
    '500 /snapshots/tk_20261122T000000Z_ccc.dump.partial',
    '60 /snapshots/tk_20261123T000000Z_ddd.dump.failed',
    '80 /snapshots/tk_20261119T000000Z_eee.dump.sha256',
    '3000 /snapshots/tk_20261124T000000Z_fff.dump',
    '80 /snapshots/tk_20261124T000000Z_fff.dump.sha256',
    '9 /snapshots/notes.txt',
    '4000 /snapshots/other_20261124T000000Z_fff.dump',
  ].join('\n');
  const checksums = [
    `${sha('a')}  tk_20261120T000000Z_aaa.dump`,
    `${sha('e')}  tk_20261119T000000Z_eee.dump`,
    'not a checksum line',
    `${sha('f')}  tk_20261124T000000Z_fff.dump`,
  ].join('\n');
  const folder = describeSnapshotFolder(spec, listing, checksums);
  assert.deepEqual(
    folder.snapshots.map((s) => [s.name, s.size, s.sha256, s.verified, s.commit, s.path]),
    [
      ['tk_20261120T000000Z_aaa.dump', 1000, sha('a'), true, 'aaa', '/snapshots/tk_20261120T000000Z_aaa.dump'],
      ['tk_20261121T000000Z_bbb.dump', 2000, undefined, false, 'bbb', '/snapshots/tk_20261121T000000Z_bbb.dump'],
      ['tk_20261124T000000Z_fff.dump', 3000, sha('f'), true, 'fff', '/snapshots/tk_20261124T000000Z_fff.dump'],
    ],
  );
  assert.deepEqual(
    folder.traces.map((t) => [t.name, t.kind]),
    [
      ['tk_20261119T000000Z_eee.dump.sha256', 'orphan-checksum'],
      ['tk_20261122T000000Z_ccc.dump.partial', 'partial'],
      ['tk_20261123T000000Z_ddd.dump.failed', 'failed'],
    ],
  );
  assert.equal(newestVerified(folder.snapshots)?.name, 'tk_20261124T000000Z_fff.dump');
});

test('an empty folder has no snapshots', () => {
  assert.deepEqual(describeSnapshotFolder(spec, '', ''), { dir: '/snapshots', snapshots: [], traces: [] });
});
