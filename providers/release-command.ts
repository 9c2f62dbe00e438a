/**
 * The release command as every target's Pulumi program runs it (a command resource that starts
 * the release CLI): what it hands over (the plan as canonical JSON, a digest that changes with
 * the secrets) and what it reads back (the summary line, the rollback instructions).
 */
import { createHash } from 'node:crypto';
import { SLOTS } from '../components/release/plan.js';
import type { ReleaseSummary } from './types.js';

/**
 * How a person rolls back: pin the previous release in the stack config and run `pulumi up`,
 * which makes it live again (the warm parked slot, in seconds) and updates the stack outputs.
 */
export function rollbackInstructions(stack: string, previousRelease: string | null, pinned?: string): string {
  if (pinned !== undefined) {
    return `release.rollbackTo pins ${pinned}; to release this commit again: pulumi config rm --path release.rollbackTo --stack ${stack} && pulumi up --stack ${stack}`;
  }
  if (previousRelease === null) return 'nothing to roll back to yet: this stack has had one release';
  return `pulumi config set --path release.rollbackTo ${previousRelease} --stack ${stack} && pulumi up --stack ${stack}`;
}

/** JSON with object keys sorted, so equal specs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
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
