import { CONFIG_NAMESPACE } from '../providers/config.js';
import type { ConfigEntry } from './pulumi-workspace.js';

/**
 * Whether a stack serves real users, so tkctl (and the CI workflows) must not tear it down
 * casually: its config says `production: true` (Pulumi.prod.yaml does), or, as a safety net for a
 * stack copied without that key, its name is `prod` or starts with `prod-`.
 */
export const PRODUCTION_CONFIG_KEY = `${CONFIG_NAMESPACE}:production`;

export function productionMarker(stackName: string, config: ReadonlyMap<string, ConfigEntry>): string | undefined {
  const value = config.get(PRODUCTION_CONFIG_KEY)?.value;
  if (value === 'true') return `its config sets production: true (Pulumi.${stackName}.yaml)`;
  if (stackName === 'prod' || stackName.startsWith('prod-')) return `its name is ${stackName} (prod and prod-* are production stacks)`;
  return undefined;
}
