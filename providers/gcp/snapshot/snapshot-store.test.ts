import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeployError } from '../../../components/errors.js';
import { startFakeGcs, type FakeGcs } from '../fake-gcs.js';
import { latestSnapshot, listSnapshots, snapshotObjectName, storeSnapshot, verifyStoredSnapshot } from './snapshot-store.js';

const POSTGRES = { host: '127.0.0.1', port: '5432', user: 'postgres' };
const pg = (command: string, args: string[]) => execFileSync(command, ['-h', POSTGRES.host, '-p', POSTGRES.port, '-U', POSTGRES.user, ...args], { encoding: 'utf8' });

describe('GCS snapshot storage (real @google-cloud/storage against fake-gcs-server, a real pg_dump)', () => {
  let gcs: FakeGcs;
  let dir: string;
  let dump: string;
  const database = `tk_gcs_${randomBytes(3).toString('hex')}`;

  before(async () => {
    gcs = await startFakeGcs();
    dir = mkdtempSync(join(tmpdir(), 'tk-gcs-snapshot-'));
    pg('createdb', [database]);
    pg('psql', ['-d', database, '-v', 'ON_ERROR_STOP=1', '-c', "CREATE TABLE rules (id serial primary key, body text); INSERT INTO rules (body) SELECT md5(i::text) FROM generate_series(1, 2000) i;"]);
    dump = join(dir, 'db.dump');
    pg('pg_dump', ['-Fc', '-f', dump, database]);
  });
  after(async () => {
    await gcs?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    pg('dropdb', ['--if-exists', database]);
  });

  it('uploads a dump, reads it back in full, records its checksum and lists it as the newest verified snapshot; the stored bytes restore', async () => {
    const bucket = await gcs.newBucket();
    const takenAt = new Date('2026-12-02T10:15:07Z');
    const stored = await storeSnapshot(bucket, { path: dump, database, takenAt, commit: '3f2a9c1d' });
    assert.equal(stored.object, snapshotObjectName(database, takenAt, '3f2a9c1d'));
    assert.equal(stored.object, `snapshots/${database}_20261202T101507Z_3f2a9c1d.dump`);
    assert.equal(stored.verified, true);
    assert.equal(stored.sha256, execFileSync('sha256sum', [dump], { encoding: 'utf8' }).split(' ')[0]);

    const listed = await listSnapshots(bucket, database);
    assert.deepEqual(listed.map((s) => [s.name, s.verified, s.size, s.sha256]), [[stored.name, true, readFileSync(dump).length, stored.sha256]]);
    assert.equal((await latestSnapshot(bucket, database))?.name, stored.name);
    assert.equal((await verifyStoredSnapshot(bucket, stored)).ok, true);

    const downloaded = join(dir, 'downloaded.dump');
    await bucket.file(stored.object).download({ destination: downloaded });
    assert.match(execFileSync('pg_restore', ['--list', downloaded], { encoding: 'utf8' }), /TABLE DATA public rules/);
  });

  it('never replaces a snapshot of the same name', async () => {
    const bucket = await gcs.newBucket();
    const takenAt = new Date('2026-12-02T11:00:00Z');
    await storeSnapshot(bucket, { path: dump, database, takenAt, commit: 'abc1234' });
    const other = join(dir, 'other.dump');
    writeFileSync(other, 'not the same bytes');
    await assert.rejects(storeSnapshot(bucket, { path: other, database, takenAt, commit: 'abc1234' }), (error: unknown) => error instanceof DeployError && /already exists; it was not replaced/.test(error.message));
    const [snapshot] = await listSnapshots(bucket, database);
    assert.equal((await verifyStoredSnapshot(bucket, snapshot!)).ok, true, 'the first dump is intact');
  });

  it('an object uploaded without the read-back mark is listed unverified and never chosen as the latest', async () => {
    const bucket = await gcs.newBucket();
    const good = await storeSnapshot(bucket, { path: dump, database, takenAt: new Date('2026-12-01T09:00:00Z'), commit: 'aaaa111' });
    // A later upload whose release died before its read-back: checksum recorded, no verified mark.
    await bucket.upload(dump, {
      destination: snapshotObjectName(database, new Date('2026-12-02T09:00:00Z'), 'bbbb222'),
      resumable: false,
      metadata: { metadata: { sha256: good.sha256 } },
    });
    await bucket.upload(dump, { destination: 'snapshots/otherdb_20261202T090000Z_cccc333.dump', resumable: false });
    const listed = await listSnapshots(bucket, database);
    assert.deepEqual(listed.map((s) => [s.commit, s.verified]), [['aaaa111', true], ['bbbb222', false]], 'other databases\' objects are not listed');
    assert.equal((await latestSnapshot(bucket, database))?.commit, 'aaaa111');
  });

  it('a stored snapshot whose bytes changed after it was taken fails verification', async () => {
    const bucket = await gcs.newBucket();
    const stored = await storeSnapshot(bucket, { path: dump, database, takenAt: new Date('2026-12-02T12:00:00Z'), commit: 'dddd444' });
    const tampered = readFileSync(dump);
    const at = tampered.length - 10;
    tampered.writeUInt8(tampered.readUInt8(at) ^ 0xff, at);
    await bucket.file(stored.object).save(tampered, { resumable: false, metadata: { metadata: { sha256: stored.sha256, 'verified-sha256': stored.sha256 } } });
    const [current] = await listSnapshots(bucket, database);
    const check = await verifyStoredSnapshot(bucket, current!);
    assert.equal(check.ok, false);
    assert.notEqual(check.sha256, stored.sha256);
  });
});
