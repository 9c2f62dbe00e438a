import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeployError } from '../../../components/errors.js';
import type { DeployEvents } from '../../../components/events/deploy-events.js';
import type { ReleasePlan } from '../../../components/release/plan.js';
import { finalSnapshotDir } from '../../final-snapshots.js';
import { FINAL_SNAPSHOT, pgDumpSnapshots } from '../database/pg-dump-snapshot.js';
import { gcpTargetOf } from '../plan-target.js';
import type { GcpBackendParts } from '../release-backend.js';
import { sha256OfFile } from './snapshot-store.js';

export interface CopiedSnapshot {
  /** The snapshot's name (as in the bucket), the local file and its `.sha256` beside it. */
  name: string;
  path: string;
  sha256: string;
}

/**
 * The final snapshot of an ephemeral GCP stack, before `pulumi destroy` deletes its Cloud SQL
 * instance and release-state bucket: a verified pg_dump snapshot taken as a release takes one (a
 * Cloud Run job into the bucket, read back in full, SHA-256 checked), then downloaded to
 * `.trapperkeeper/final-snapshots/<stack>/` and checked once more against the checksum the job
 * computed where the dump was made, with a `<name>.sha256` beside it (`sha256sum -c` reads it),
 * as Docker leaves its final snapshot. Any failure throws before anything is destroyed; there is
 * no switch to skip it (a snapshot is never skipped, as on Docker).
 */
export async function copyOutFinalSnapshot(plan: ReleasePlan, parts: GcpBackendParts, events: DeployEvents, projectDir?: string): Promise<CopiedSnapshot> {
  const target = gcpTargetOf(plan);
  const stack = { target, clients: parts.clients, progress: parts.progress ?? (() => undefined) };
  const snapshot = await pgDumpSnapshots(stack, parts.bucket).take(plan, events, FINAL_SNAPSHOT);
  const dir = finalSnapshotDir(plan.stack, projectDir);
  const path = join(dir, snapshot.name);
  const partial = `${path}.partial`;
  const fix = `free space in ${dir} or check the network, then run pulumi destroy again (the snapshot stays in gs://${parts.bucket.name}/${snapshot.object} until then)`;
  try {
    mkdirSync(dir, { recursive: true });
    await parts.bucket.file(snapshot.object, { generation: Number(snapshot.generation) }).download({ destination: partial });
  } catch (error) {
    rmSync(partial, { force: true });
    throw new DeployError(`Copying the final snapshot gs://${parts.bucket.name}/${snapshot.object} to ${dir} failed: ${(error as Error).message}; nothing was destroyed`, fix);
  }
  const copied = await sha256OfFile(partial);
  if (copied.sha256 !== snapshot.sha256) {
    rmSync(partial, { force: true });
    throw new DeployError(`The final snapshot copied to ${path} has sha256 ${copied.sha256}, not ${snapshot.sha256 ?? '(none recorded)'}; it was deleted and nothing was destroyed`, fix);
  }
  renameSync(partial, path);
  writeFileSync(`${path}.sha256`, `${copied.sha256}  ${snapshot.name}\n`);
  events.logger.info(
    { event: 'snapshot.copied', snapshot: snapshot.name, copiedTo: dir, sha256: copied.sha256, size: copied.size },
    `final snapshot ${snapshot.name} copied to ${dir} before the Cloud SQL instance ${target.databaseInstance} and gs://${target.stateBucket} are destroyed`,
  );
  return { name: snapshot.name, path, sha256: copied.sha256 };
}
