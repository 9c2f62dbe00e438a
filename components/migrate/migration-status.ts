/**
 * Reading what `trapperkeeper migrate` prints. Its log lines (JSON objects) share stdout with
 * the result, so the result is found by shape: the `--status --json` array, or the summary line.
 */
export type MigrationState = 'applied' | 'pending' | 'failed' | 'running' | 'checksum-mismatch';

export interface MigrationStatusEntry {
  id: string;
  status: MigrationState;
  error?: string;
}

export interface PendingMigrations {
  /** Not applied yet: the release will apply them. */
  pending: string[];
  /** Failed or interrupted earlier: `migrate --resolve <id>` after fixing the cause. */
  failed: string[];
  /** Applied, but the file changed since. */
  changed: string[];
  /** Another migrator is applying them right now. */
  running: string[];
  statuses: MigrationStatusEntry[];
}

const STATES: readonly string[] = ['applied', 'pending', 'failed', 'running', 'checksum-mismatch'];

/** The status array from `migrate --status --json`; undefined when there is none. */
export function parseMigrationStatus(stdout: string): MigrationStatusEntry[] | undefined {
  for (const line of stdout.split('\n').reverse()) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('[')) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      continue;
    }
    if (Array.isArray(parsed) && parsed.every(isStatusEntry)) {
      return parsed.map((entry) => ({ id: entry.id, status: entry.status, ...(entry.error ? { error: entry.error } : {}) }));
    }
  }
  return undefined;
}

export function summarizeMigrationStatus(statuses: MigrationStatusEntry[]): PendingMigrations {
  const ids = (state: MigrationState) => statuses.filter((entry) => entry.status === state).map((entry) => entry.id);
  return { pending: ids('pending'), failed: ids('failed'), changed: ids('checksum-mismatch'), running: ids('running'), statuses };
}

/** Ids from `applied 2 migration(s): 002_a, 003_b`; [] from `schema is up to date`; undefined otherwise. */
export function parseAppliedMigrations(stdout: string): string[] | undefined {
  const applied = /^applied \d+ migration\(s\): (.+)$/m.exec(stdout);
  if (applied) return applied[1]!.split(',').map((id) => id.trim()).filter(Boolean);
  return /^schema is up to date/m.test(stdout) ? [] : undefined;
}

/** The failed migration's id from the app's error (`Migration 002_x failed...`). */
export function parseFailedMigration(output: string): string | undefined {
  return /Migration (\S+) failed/.exec(output)?.[1];
}

/** The last `lines` lines of a run's output, with every secret value blanked. */
export function outputTail(output: string, secrets: readonly string[], lines = 20): string {
  let text = output;
  for (const secret of secrets) if (secret.length >= 4) text = text.split(secret).join('[redacted]');
  return text.trim().split('\n').slice(-lines).join('\n');
}

function isStatusEntry(value: unknown): value is MigrationStatusEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  return typeof entry.id === 'string' && typeof entry.status === 'string' && STATES.includes(entry.status);
}
