import { DeployError } from '../../components/errors.js';
import { DEFAULT_DATABASE } from '../../components/release/plan.js';
import { readStackFileConfig } from '../stack-file.js';
import { gcpSectionSchema } from './config.js';
import { planGcpInfrastructure } from './infrastructure-spec.js';
import { gcpPlanTargetSchema, type GcpPlanTarget } from './plan-target.js';
import { gcpPlanTargetOfSpec } from './release-plan.js';

/** A GCP stack as the commands that run without `pulumi` (status, lock) find it. */
export interface GcpStackRef {
  stack: string;
  target: GcpPlanTarget;
  /** The app's database: its snapshots are named after it. */
  database: string;
}

/**
 * The GCP stack `stack` as its Pulumi.<stack>.yaml in `dir` declares it (the same names the
 * program gives its services, bucket and instance), or undefined when the file does not exist or
 * is for another provider. Reads no secret.
 */
export function gcpStackFromFile(stack: string, dir = process.cwd()): GcpStackRef | undefined {
  const config = readStackFileConfig(stack, dir);
  if (config?.['trapperkeeper:provider'] !== 'gcp') return undefined;
  const section = gcpSectionSchema.safeParse(config['trapperkeeper:gcp'] ?? {});
  if (!section.success) {
    throw new DeployError(
      `Pulumi.${stack}.yaml has no valid trapperkeeper:gcp section (${section.error.issues.map((issue) => `gcp.${issue.path.join('.')}: ${issue.message}`).join('; ')})`,
      `run pulumi preview -s ${stack}: it lists every problem of the stack config with its fix`,
    );
  }
  const database = (config['trapperkeeper:database'] ?? {}) as { name?: unknown; user?: unknown };
  const snapshots = (config['trapperkeeper:snapshots'] ?? {}) as { retentionDays?: unknown };
  const spec = planGcpInfrastructure({
    stack,
    gcp: section.data,
    database: { name: typeof database.name === 'string' ? database.name : DEFAULT_DATABASE.name, user: typeof database.user === 'string' ? database.user : DEFAULT_DATABASE.user },
    // Decides nothing the commands here read.
    snapshots: { retentionDays: typeof snapshots.retentionDays === 'number' ? snapshots.retentionDays : 0 },
    app: {},
  });
  const target = gcpPlanTargetSchema.parse(gcpPlanTargetOfSpec(spec));
  return { stack, target, database: spec.database.name };
}
