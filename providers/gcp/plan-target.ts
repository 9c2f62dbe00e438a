import { z } from 'zod';
import { parseTargetSection, type ReleasePlan } from '../../components/release/plan.js';

// Apart from release-plan.ts, which reads the stack config: the release process reads plans only
// and must not load the Pulumi SDK that the config module brings (lint:layers checks it).

/** pg_dump of the Cloud SQL version the target declares (POSTGRES_16), from Docker Hub. */
export const DEFAULT_SNAPSHOT_IMAGE = 'postgres:16-bookworm';

/** The gcp part of a release plan: where the release finds the stack's services, bucket and database. */
export const gcpPlanTargetSchema = z.object({
  kind: z.literal('gcp'),
  project: z.string().min(1),
  region: z.string().min(1),
  stateBucket: z.string().min(1),
  services: z.object({ 'sensor-api': z.string().min(1), 'web-ui': z.string().min(1) }),
  databaseInstance: z.string().min(1),
  /** The image whose pg_dump takes the snapshot job (its major version at least the server's). */
  snapshotImage: z.string().min(1).default(DEFAULT_SNAPSHOT_IMAGE),
});
export type GcpPlanTarget = z.infer<typeof gcpPlanTargetSchema>;
/** As a plan carries it (defaulted fields may be absent). */
export type GcpPlanTargetInput = z.input<typeof gcpPlanTargetSchema>;

export function gcpTargetOf(plan: ReleasePlan): GcpPlanTarget {
  return parseTargetSection(plan, 'gcp', gcpPlanTargetSchema);
}
