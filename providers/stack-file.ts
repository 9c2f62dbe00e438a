import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { RoutedRelease } from '../components/release/ports.js';
import type { Slot } from '../components/release/plan.js';

/**
 * What the release CLI's `status` prints for a stack, on every target (one JSON line; tkctl
 * status shows it too, see stack-operations.ts): the live slot and release, both slots' releases, the newest
 * verified snapshot and the deploy lock (its holder, or `free`).
 */
export interface StackStatusReport {
  live: RoutedRelease | null;
  slots: Record<Slot, string | null>;
  latestSnapshot: string | null;
  lock: string;
}

/**
 * The `config:` map of Pulumi.<stack>.yaml in `dir` as written (namespaced keys, sections as
 * objects), or undefined without such a file. Commands that act on a stack without `pulumi`
 * (status, lock) find its target here; secrets in it stay encrypted and are never read.
 */
export function readStackFileConfig(stack: string, dir = process.cwd()): Record<string, unknown> | undefined {
  const file = join(dir, `Pulumi.${stack}.yaml`);
  if (!existsSync(file)) return undefined;
  return (parseYaml(readFileSync(file, 'utf8')) as { config?: Record<string, unknown> } | null)?.config ?? {};
}
