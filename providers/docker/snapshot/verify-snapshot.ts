import type { DockerEngine } from '../engine.js';
import { DeployError } from '../../../components/errors.js';
import { parseSha256Output, pgRestoreReadArgs, sha256Args, type SnapshotSpec } from './snapshot-commands.js';
import { readSnapshotFolder, type Snapshot } from './snapshot-folder.js';

export interface SnapshotVerification {
  snapshot: Snapshot;
  ok: boolean;
  /** The sha256 recorded after the snapshot was taken (absent: never verified). */
  recordedSha256?: string;
  actualSha256?: string;
  /** Empty when ok. */
  problems: string[];
}

/**
 * Checks a snapshot's bytes again: the sha256 against the recorded one, and a full read with
 * pg_restore. A truncated or altered file fails both.
 */
export async function verifySnapshot(engine: DockerEngine, spec: SnapshotSpec, name: string): Promise<SnapshotVerification> {
  const snapshot = await findSnapshot(engine, spec, name);
  const problems: string[] = [];
  if (!snapshot.sha256) problems.push(`no checksum was recorded for ${name} (its snapshot never finished verification)`);

  const checksum = await engine.exec(sha256Args(spec, snapshot.path), { timeoutMs: 3_600_000 });
  const actualSha256 = checksum.exitCode === 0 ? parseSha256Output(checksum.stdout) : undefined;
  if (!actualSha256) problems.push(`sha256sum failed: ${checksum.stderr.trim() || `exit ${checksum.exitCode}`}`);
  else if (snapshot.sha256 && actualSha256 !== snapshot.sha256) {
    problems.push(`sha256 is ${actualSha256}, recorded ${snapshot.sha256}: the file changed after it was taken`);
  }

  const read = await engine.exec(pgRestoreReadArgs(spec, snapshot.path), { timeoutMs: 3_600_000 });
  if (read.exitCode !== 0) problems.push(`pg_restore cannot read it: ${read.stderr.trim().split('\n').slice(-3).join(' | ') || `exit ${read.exitCode}`}`);

  return {
    snapshot,
    ok: problems.length === 0,
    ...(snapshot.sha256 ? { recordedSha256: snapshot.sha256 } : {}),
    ...(actualSha256 ? { actualSha256 } : {}),
    problems,
  };
}

export async function findSnapshot(engine: DockerEngine, spec: SnapshotSpec, name: string): Promise<Snapshot> {
  const folder = await readSnapshotFolder(engine, spec);
  const snapshot = folder.snapshots.find((candidate) => candidate.name === name);
  if (snapshot) return snapshot;
  const known = folder.snapshots.map((candidate) => candidate.name);
  throw new DeployError(
    `No snapshot ${name} of database ${spec.database.name} in ${folder.dir}`,
    known.length > 0 ? `pick one of: ${known.join(', ')}` : 'no snapshot has been taken yet for this database',
  );
}
