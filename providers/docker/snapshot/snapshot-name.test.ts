import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSnapshotTime, parseSnapshotFileName, parseSnapshotTime, snapshotDumpName } from './snapshot-name.js';

const at = new Date('2026-11-23T10:15:07.891Z');

test('a snapshot is named <db>_<UTC time to the second>_<sha>.dump', () => {
  assert.equal(formatSnapshotTime(at), '20261123T101507Z');
  assert.equal(snapshotDumpName('trapperkeeper', at, '3f2a9c1d'), 'trapperkeeper_20261123T101507Z_3f2a9c1d.dump');
});

test('each file of an attempt is recognised with its time, for this database only', () => {
  const time = new Date('2026-11-23T10:15:07Z');
  for (const [file, kind] of [
    ['tk_20261123T101507Z_3f2a9c1d.dump', 'dump'],
    ['tk_20261123T101507Z_3f2a9c1d.dump.sha256', 'checksum'],
    ['tk_20261123T101507Z_3f2a9c1d.dump.partial', 'partial'],
    ['tk_20261123T101507Z_3f2a9c1d.dump.failed', 'failed'],
  ] as const) {
    assert.deepEqual(parseSnapshotFileName('tk', file), { kind, dumpName: 'tk_20261123T101507Z_3f2a9c1d.dump', takenAt: time, commit: '3f2a9c1d' });
  }
  for (const other of [
    'tk_old_20261123T101507Z_3f2a9c1d.dump', // another database whose name starts like ours
    'tk_20261323T101507Z_3f2a9c1d.dump', // month 13
    'tk_20261123T101507Z_3f2a9c1d.sql',
    'manual-backup.dump',
    'tk_20261123T101507Z_.dump',
  ]) {
    assert.equal(parseSnapshotFileName('tk', other), undefined, other);
  }
});

test('snapshot times parse only in their exact format', () => {
  assert.deepEqual(parseSnapshotTime('20261123T101507Z'), new Date('2026-11-23T10:15:07Z'));
  assert.equal(parseSnapshotTime('20260230T000000Z'), undefined);
  assert.equal(parseSnapshotTime('2026-11-23T10:15:07Z'), undefined);
});
