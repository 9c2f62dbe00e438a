import { join } from 'node:path';

/**
 * Where `pulumi destroy` of an ephemeral stack leaves its final snapshot before the data goes (the
 * Docker volumes, the Cloud SQL instance and release-state bucket on GCP): a folder per stack,
 * relative to the project folder `pulumi destroy` runs the release command in.
 */
export const FINAL_SNAPSHOT_DIR = '.trapperkeeper/final-snapshots';

export function finalSnapshotDir(stack: string, projectDir = '.'): string {
  return join(projectDir, FINAL_SNAPSHOT_DIR, stack);
}
