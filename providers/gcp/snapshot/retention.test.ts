import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeGcs, type FakeGcs } from '../fake-gcs.js';
import { applySnapshotRetention } from './retention.js';
import { listSnapshots, snapshotObjectName, storeSnapshot } from './snapshot-store.js';

const database = 'trapperkeeper';
const day = (iso: string) => new Date(`${iso}T10:00:00Z`);

describe('GCP snapshot retention (real @google-cloud/storage against fake-gcs-server)', () => {
  let gcs: FakeGcs;
  let dir: string;
  let dump: string;
  before(async () => {
    gcs = await startFakeGcs();
    dir = mkdtempSync(join(tmpdir(), 'tk-gcp-retention-'));
    dump = join(dir, 'x.dump');
    writeFileSync(dump, 'PGDMP stand-in bytes: retention reads names, times and marks only');
  });
  after(async () => {
    await gcs?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the newest verified snapshot however old, deletes older ones past the retention, and gives the others a custom time for the bucket rule', async () => {
    const bucket = await gcs.newBucket();
    await storeSnapshot(bucket, { path: dump, database, takenAt: day('2026-10-01'), commit: 'aaaa111' });
    await storeSnapshot(bucket, { path: dump, database, takenAt: day('2026-11-28'), commit: 'bbbb222' });
    await storeSnapshot(bucket, { path: dump, database, takenAt: day('2026-11-30'), commit: 'cccc333' });
    // A later upload whose release died before the read-back: unverified, never the one kept.
    await bucket.upload(dump, { destination: snapshotObjectName(database, day('2026-12-01'), 'dddd444'), resumable: false });

    const result = await applySnapshotRetention(bucket, database, { retentionDays: 7, now: day('2026-12-02') });
    assert.deepEqual(result.deleted, [`${database}_20261001T100000Z_aaaa111.dump`]);
    assert.deepEqual(result.superseded, [`${database}_20261128T100000Z_bbbb222.dump`]);
    const listed = await listSnapshots(bucket, database);
    assert.deepEqual(
      listed.map((s) => [s.commit, s.verified, s.customTime?.toISOString() ?? null]),
      [
        ['bbbb222', true, '2026-11-28T10:00:00.000Z'],
        ['cccc333', true, null],
        ['dddd444', false, null],
      ],
      'the newest verified one has no custom time, so the bucket rule (daysSinceCustomTime) never deletes it',
    );

    // Months without a release: retention alone still keeps the newest verified snapshot.
    const later = await applySnapshotRetention(bucket, database, { retentionDays: 7, now: day('2027-03-01') });
    assert.deepEqual(later.deleted, [`${database}_20261128T100000Z_bbbb222.dump`]);
    assert.deepEqual((await listSnapshots(bucket, database)).map((s) => s.commit), ['cccc333', 'dddd444']);
  });

  it('deletes nothing while no snapshot is verified', async () => {
    const bucket = await gcs.newBucket();
    await bucket.upload(dump, { destination: snapshotObjectName(database, day('2026-01-01'), 'eeee555'), resumable: false });
    assert.deepEqual(await applySnapshotRetention(bucket, database, { retentionDays: 1, now: day('2026-12-02') }), { deleted: [], superseded: [] });
  });
});
