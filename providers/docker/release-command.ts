import { createHash } from 'node:crypto';
import type { ReleaseSpec } from '../../components/release/spec.js';
import { SLOTS } from '../../components/release/spec.js';
import type { ReleaseSummary } from '../types.js';

/** The release CLI, run from the project folder (Pulumi's working directory). */
export const RELEASE_CLI = 'npx tsx components/release/cli.ts';
/** The environment variable the release CLI reads its ReleaseSpec (JSON) from. */
export const RELEASE_SPEC_ENV = 'TK_RELEASE_SPEC';

export type ReleaseOperation = 'deploy' | 'destroy' | 'rollback';

export function releaseCliCommand(operation: ReleaseOperation): string {
  return `${RELEASE_CLI} ${operation}`;
}

/**
 * How a person rolls back outside `pulumi up`: the release CLI finds the parked previous release
 * (and its spec) on the Docker host itself; `--to <release id>` picks an older kept image, which
 * needs TK_DATABASE_URL and TK_HMAC_SECRET in the environment.
 */
export function rollbackInstructions(stack: string): string {
  return `${releaseCliCommand('rollback')} --stack ${stack}`;
}

/** JSON with object keys sorted, so equal specs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

export function specHash(spec: ReleaseSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}

/**
 * A digest that changes when any secret changes (so the release runs again with the new value).
 * The caller computes it inside an `apply` on the secret outputs, so Pulumi keeps it secret too.
 */
export function secretsDigest(values: readonly string[]): string {
  const hash = createHash('sha256').update('trapperkeeper-release-secrets\0');
  for (const value of values) hash.update(`${Buffer.byteLength(value)}:${value}\0`);
  return hash.digest('hex');
}

/**
 * The summary the release CLI prints as its last JSON line on stdout:
 * `{"liveSlot":"blue","liveRelease":"...","previousRelease":null,"latestSnapshot":"..."}`.
 * Anything else on stdout (progress) is ignored; no summary at all is a bug in the CLI.
 */
export function parseReleaseSummary(stdout: string): ReleaseSummary {
  const lines = stdout.split('\n').map((line) => line.trim()).filter((line) => line.startsWith('{'));
  for (const line of lines.reverse()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    const summary = asSummary(parsed);
    if (summary) return summary;
  }
  throw new Error(`The release CLI printed no summary line ({"liveSlot","liveRelease","previousRelease","latestSnapshot"}) on stdout`);
}

function asSummary(value: unknown): ReleaseSummary | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  const optionalString = (v: unknown) => v === undefined || v === null || typeof v === 'string';
  if (!(SLOTS as readonly unknown[]).includes(record.liveSlot)) return undefined;
  if (typeof record.liveRelease !== 'string' || !optionalString(record.previousRelease) || !optionalString(record.latestSnapshot)) return undefined;
  return {
    liveSlot: record.liveSlot as ReleaseSummary['liveSlot'],
    liveRelease: record.liveRelease,
    previousRelease: (record.previousRelease as string | null) ?? null,
    latestSnapshot: (record.latestSnapshot as string | null) ?? null,
  };
}
