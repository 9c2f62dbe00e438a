import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DEPLOY_EVENTS_FILE_ENV } from '../components/events/deploy-events.js';

/**
 * Two records of deployments, both JSON lines under `.trapperkeeper/` in the project folder:
 * - the release pipeline's events (`events/<stack>.jsonl`, written by the release command that
 *   `pulumi up` runs): every release's start and outcome, whoever ran `pulumi up`;
 * - tkctl's own history (`deployments/<stack>.jsonl`): one line per `tkctl up|rollback|destroy`
 *   run, with who ran it, the commit, the result and how long the whole `pulumi up` took.
 */
export const EVENTS_DIR = '.trapperkeeper/events';
export const HISTORY_DIR = '.trapperkeeper/deployments';

/** A release's outcome as the pipeline logged it (`release.succeeded` / `release.failed`). */
export interface ReleaseOutcomeEvent {
  time: string;
  result: 'succeeded' | 'failed';
  kind: string;
  release: string | null;
  durationMs: number | null;
  error?: string;
}

export interface DeploymentRecord {
  command: 'up' | 'rollback' | 'destroy';
  stack: string;
  /** `$USER@hostname`. */
  by: string;
  startedAt: string;
  durationMs: number;
  result: 'succeeded' | 'failed';
  /** The git commit deployed: the project folder's HEAD, or the one --ref named. */
  commit: string | null;
  /** `tkctl up --ref <ref>`: the ref as given (a tag, a branch, a commit). */
  ref?: string;
  /** The live release after the run (the stack output), when known. */
  release: string | null;
  /** Why the CI gate was passed over, when it was. */
  ciOverride?: string;
  error?: string;
}

export function eventsFile(dir: string, stack: string): string {
  return resolve(dir, process.env[DEPLOY_EVENTS_FILE_ENV] || join(EVENTS_DIR, `${stack}.jsonl`));
}

export function historyFile(dir: string, stack: string): string {
  return resolve(dir, HISTORY_DIR, `${stack}.jsonl`);
}

function readJsonLines(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((text) => {
      if (!text.trim()) return [];
      try {
        const value = JSON.parse(text) as unknown;
        return value && typeof value === 'object' ? [value as Record<string, unknown>] : [];
      } catch {
        return []; // a line cut short by a crash: skip it, keep the rest
      }
    });
}

/** The last `limit` release outcomes of the stack's event log, newest first. */
export function lastReleaseOutcomes(dir: string, stack: string, limit: number): ReleaseOutcomeEvent[] {
  return readJsonLines(eventsFile(dir, stack))
    .filter((entry) => entry.event === 'release.succeeded' || entry.event === 'release.failed')
    .slice(-limit)
    .reverse()
    .map((entry) => ({
      time: String(entry.time ?? ''),
      result: entry.event === 'release.succeeded' ? 'succeeded' : 'failed',
      kind: String(entry.kind ?? 'release'),
      release: typeof entry.release === 'string' ? entry.release : null,
      durationMs: typeof entry.durationMs === 'number' ? entry.durationMs : null,
      ...(typeof entry.error === 'string' ? { error: entry.error } : {}),
    }));
}

export function appendDeployment(dir: string, record: DeploymentRecord): void {
  const file = historyFile(dir, record.stack);
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(record)}\n`);
}

/** The last `limit` tkctl runs on the stack, newest first. */
export function lastDeployments(dir: string, stack: string, limit: number): DeploymentRecord[] {
  return (readJsonLines(historyFile(dir, stack)) as unknown as DeploymentRecord[]).slice(-limit).reverse();
}
