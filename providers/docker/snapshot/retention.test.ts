import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planRetention } from './retention.js';
import type { SnapshotSpec } from './snapshot-commands.js';
import { describeSnapshotFolder } from './snapshot-folder.js';

const spec: SnapshotSpec = {
  database: { container: 'pg', name: 'tk', user: 'tk' },
  snapshots: { dir: '/s', retentionDays: 7, lockWaitTimeoutMs: 30_000 },
};
const now = new Date('2026-11-30T12:00:00Z');

/** A folder from `<day of November>:<kind>` entries: v = verified dump, u = unverified, p/f/o = traces. */
function folder(...entries: string[]) {
  const listing: string[] = [];
  const checksums: string[] = [];
  for (const entry of entries) {
    const [day, kind] = entry.split(':') as [string, string];
    const name = `tk_202611${day.padStart(2, '0')}T120000Z_c${day}.dump`;
    if (kind === 'v' || kind === 'u') listing.push(`100 /s/${name}`);
    if (kind === 'v' || kind === 'o') {
      listing.push(`80 /s/${name}.sha256`);
      checksums.push(`${'a'.repeat(64)}  ${name}`);
    }
    if (kind === 'p') listing.push(`50 /s/${name}.partial`);
    if (kind === 'f') listing.push(`50 /s/${name}.failed`);
  }
  return describeSnapshotFolder(spec, listing.join('\n'), checksums.join('\n'));
}
const dump = (day: number) => `tk_202611${String(day).padStart(2, '0')}T120000Z_c${day}.dump`;

describe('snapshot retention', () => {
  test('verified snapshots older than the retention are deleted with their checksum files; newer ones stay', () => {
    const plan = planRetention(folder('1:v', '20:v', '25:v', '29:v'), { retentionDays: 7, now });
    assert.equal(plan.heldBack, undefined);
    assert.deepEqual(plan.delete, [dump(1), `${dump(1)}.sha256`, dump(20), `${dump(20)}.sha256`]);
    assert.deepEqual(plan.keep, [
      { name: dump(25), reason: 'within 7 days' },
      { name: dump(29), reason: 'newest verified snapshot' },
    ]);
  });

  test('the newest verified snapshot is kept even when every snapshot is older than the retention', () => {
    const plan = planRetention(folder('1:v', '2:v', '3:v'), { retentionDays: 7, now });
    assert.deepEqual(plan.delete, [dump(1), `${dump(1)}.sha256`, dump(2), `${dump(2)}.sha256`]);
    assert.deepEqual(plan.keep, [{ name: dump(3), reason: 'newest verified snapshot' }]);
  });

  test('a failed attempt after the newest verified snapshot holds everything back', () => {
    const plan = planRetention(folder('1:v', '2:v', '29:f'), { retentionDays: 7, now });
    assert.deepEqual(plan.delete, []);
    assert.match(plan.heldBack ?? '', /did not finish verified: tk_20261129T120000Z_c29\.dump\.failed/);
  });

  test('a partial dump, a lone checksum or an unverified dump after the newest verified one also hold it back', () => {
    for (const trace of ['29:p', '29:o', '29:u']) {
      const plan = planRetention(folder('1:v', '2:v', trace), { retentionDays: 7, now });
      assert.deepEqual(plan.delete, [], trace);
      assert.ok(plan.heldBack, trace);
    }
  });

  test('without any verified snapshot nothing is deleted', () => {
    const plan = planRetention(folder('1:u', '2:p'), { retentionDays: 7, now });
    assert.deepEqual(plan, {
      heldBack: 'no verified snapshot exists',
      delete: [],
      keep: [
        { name: dump(1), reason: 'retention held back' },
        { name: `${dump(2)}.partial`, reason: 'retention held back' },
      ],
    });
  });

  test('old traces of failed attempts go once a newer snapshot is verified; old unverified dumps stay for a person', () => {
    const plan = planRetention(folder('1:u', '2:p', '3:f', '4:o', '26:f', '28:v'), { retentionDays: 7, now });
    assert.deepEqual(plan.delete, [`${dump(2)}.partial`, `${dump(3)}.failed`, `${dump(4)}.sha256`]);
    assert.deepEqual(plan.keep, [
      { name: dump(1), reason: 'unverified; never deleted automatically' },
      { name: `${dump(26)}.failed`, reason: 'failed attempt within 7 days' },
      { name: dump(28), reason: 'newest verified snapshot' },
    ]);
  });

  test('a retention of 0 days keeps only the newest verified snapshot', () => {
    const plan = planRetention(folder('29:v', '30:v'), { retentionDays: 0, now });
    assert.deepEqual(plan.delete, [dump(29), `${dump(29)}.sha256`]);
  });
});
