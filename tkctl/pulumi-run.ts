import { hostname, userInfo } from 'node:os';
import type { Stack } from '@pulumi/pulumi/automation/index.js';
import { DeployError } from '../components/errors.js';
import { ciStatus } from './ci-status.js';
import { appendDeployment, type DeploymentRecord } from './deploy-history.js';
import { progress, type TkctlIo } from './io.js';

export function operator(): string {
  let user = process.env.USER ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (a container): keep $USER
  }
  return `${user}@${hostname()}`;
}

/** The engine's progress, streamed to stderr as it comes (stdout stays for --json). */
export function streamTo(io: TkctlIo): { onOutput: (text: string) => void } {
  return { onOutput: (text) => io.stderr.write(text) };
}

export interface RecordedRun {
  result: 'succeeded' | 'failed';
  durationMs: number;
  release: string | null;
  outputs: Record<string, unknown>;
}

/**
 * Runs `pulumi up` (or destroy) through the Automation API with progress streamed, and appends
 * who, when, which commit (and ref, for up --ref), the result, the live release and the duration to the stack's history,
 * whatever the outcome. A failed run is a DeployError after it is recorded.
 */
export async function recordedRun(
  io: TkctlIo,
  stack: Stack,
  stackName: string,
  command: DeploymentRecord['command'],
  extra: { ciOverride?: string; ref?: { ref: string; commit: string } } = {},
): Promise<RecordedRun> {
  const startedAt = new Date();
  const started = performance.now();
  const commit = extra.ref?.commit ?? ciStatus(io.cwd).commit;
  let error: unknown;
  try {
    if (command === 'destroy') await stack.destroy(streamTo(io));
    else await stack.up(streamTo(io));
  } catch (caught) {
    error = caught;
  }
  const durationMs = Math.round(performance.now() - started);
  const outputs = command === 'destroy' ? {} : await stack.outputs().then(
    (out) => Object.fromEntries(Object.entries(out).filter(([, o]) => !o.secret).map(([key, o]) => [key, o.value as unknown])),
    () => ({}),
  );
  const release = typeof outputs.liveVersion === 'string' ? outputs.liveVersion : null;
  const result = error ? 'failed' : 'succeeded';
  appendDeployment(io.cwd, {
    command,
    stack: stackName,
    by: operator(),
    startedAt: startedAt.toISOString(),
    durationMs,
    result,
    commit,
    ...(extra.ref ? { ref: extra.ref.ref } : {}),
    release,
    ...(extra.ciOverride ? { ciOverride: extra.ciOverride } : {}),
    ...(error ? { error: lastLines(error) } : {}),
  });
  progress(io, `tkctl ${command} ${stackName}: ${result} in ${(durationMs / 1000).toFixed(1)} s${release ? `, live ${release}` : ''}`);
  if (error) {
    throw new DeployError(
      `pulumi ${command === 'destroy' ? 'destroy' : 'up'} of stack ${stackName} failed: ${lastLines(error)}`,
      command === 'destroy' ? `fix the cause above, then tkctl destroy --stack ${stackName} again` : `tkctl status --stack ${stackName} (what serves is unchanged when a release fails); fix the cause above and run tkctl up again`,
    );
  }
  return { result, durationMs, release, outputs };
}

/** The last few meaningful lines of a failed CLI run's error (not its command line). */
function lastLines(error: unknown): string {
  const err = error as { stderr?: string; message?: string };
  const text = err.stderr?.trim() || err.message || String(error);
  return text.split('\n').map((l) => l.trim()).filter(Boolean).slice(-3).join(' | ');
}
