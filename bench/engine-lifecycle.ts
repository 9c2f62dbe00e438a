/**
 * The deploy benchmark's engine part: what a person waits for at the prompt, `pulumi up` through
 * the real engine (Automation API) on a copy of this commit, under load through the public
 * endpoints: a config-only release, a code change with a warm build cache, and a rollback through
 * the release.rollbackTo pin. Skipped with the reason where the engine's plugins are missing.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineEvent, Stack } from '@pulumi/pulumi/automation/index.js';
import { REPO_ROOT } from '../test/support/images.js';
import { startLoad, type LoadReport } from '../test/support/load.js';
import { checkEngineRequirements, createEngineStack, engineOutputs, liveApiKey, removeEngineStack } from '../test/support/pulumi-engine.js';

export interface EngineUp {
  seconds: number;
  /** The release's own phases (from its `release.succeeded` event), in ms. */
  phases: Record<string, number> | null;
  /** The release process's share: from its first event to its last. */
  releaseSeconds: number | null;
  /** Where the rest went, from the engine's events as they arrived (seconds since the up began). */
  engine: EngineProfile;
}

/**
 * An up's timeline from the engine's event stream: when the engine began the update (the CLI,
 * its plugins and the language host are up), the program's first and last resource
 * registrations, the release command's step (process start to exit), and the summary.
 */
export interface EngineProfile {
  prelude: number | null;
  firstResource: number | null;
  releaseStep: { start: number; end: number } | null;
  lastStep: number | null;
  summary: number | null;
  steps: { urn: string; op: string; start: number; end: number | null }[];
}

export type EngineBench =
  | { skipped: string }
  | { firstUp: EngineUp; configOnly: EngineUp; codeChange: EngineUp; rollback: EngineUp; load: LoadReport };

/** A source file a code change touches: it is copied into the image's build stage and compiled. */
const CHANGED_SOURCE = 'app/src/cli/main.ts';

interface EventLine {
  event: string;
  time?: string;
  phases?: Record<string, number>;
}

function readEvents(file: string): EventLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as EventLine);
}

async function timedUp(stack: Stack, eventsFile: string): Promise<EngineUp> {
  const seen = readEvents(eventsFile).length;
  const started = performance.now();
  const at = () => Math.round(performance.now() - started) / 1000;
  const engine: EngineProfile = { prelude: null, firstResource: null, releaseStep: null, lastStep: null, summary: null, steps: [] };
  const onEvent = (event: EngineEvent) => {
    const now = at();
    if (event.preludeEvent) engine.prelude = now;
    if (event.summaryEvent) engine.summary = now;
    const pre = event.resourcePreEvent?.metadata;
    if (pre && pre.type !== 'pulumi:pulumi:Stack') {
      engine.firstResource ??= now;
      if (pre.op !== 'same') engine.steps.push({ urn: pre.urn.split('::').at(-1) ?? pre.urn, op: pre.op, start: now, end: null });
    }
    const done = event.resOutputsEvent?.metadata;
    if (done && done.op !== 'same') {
      const step = engine.steps.find((s) => s.end === null && done.urn.endsWith(`::${s.urn}`));
      if (step) step.end = now;
      engine.lastStep = now;
    }
  };
  await stack.up({ onOutput: () => undefined, onEvent });
  const seconds = (performance.now() - started) / 1000;
  const release = engine.steps.find((s) => s.urn.endsWith('-release') && s.end !== null);
  engine.releaseStep = release ? { start: release.start, end: release.end! } : null;
  const events = readEvents(eventsFile).slice(seen);
  const succeeded = events.filter((e) => e.event === 'release.succeeded').at(-1);
  const times = events.map((e) => (e.time ? Date.parse(e.time) : NaN)).filter((t) => !Number.isNaN(t));
  return {
    seconds,
    phases: succeeded?.phases ?? null,
    releaseSeconds: times.length > 1 ? (Math.max(...times) - Math.min(...times)) / 1000 : null,
    engine,
  };
}

export async function benchThroughEngine(options: { rate: number; log: (line: string) => void }): Promise<EngineBench> {
  const requirements = checkEngineRequirements();
  if (requirements.missing.length > 0) return { skipped: `needs ${requirements.missing.join('; ')}` };

  // A copy of this commit: the code change edits a source file there, never in this checkout.
  const copy = mkdtempSync(join(tmpdir(), 'tk-bench-engine-'));
  const workDir = join(copy, 'repo');
  execFileSync('git', ['worktree', 'add', '--detach', workDir, 'HEAD'], { cwd: REPO_ROOT, stdio: 'ignore' });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(workDir, 'node_modules'));
  const scratch = join(copy, 'state');
  const eventsFile = join(scratch, 'events.jsonl');
  let stack: Stack | undefined;
  let load: ReturnType<typeof startLoad> | undefined;
  try {
    execFileSync('mkdir', ['-p', scratch]);
    stack = await createEngineStack({ cli: requirements.cli!, stackName: `bench-${process.pid}`, workDir, scratch });
    options.log('engine: first pulumi up (builds the image, starts the stack)');
    const firstUp = await timedUp(stack, eventsFile);
    const out = await engineOutputs(stack);
    load = startLoad(
      { httpUrl: String(out.publicHttpUrl), grpcAddress: String(out.publicGrpcAddress), apiKey: liveApiKey(stack.name, String(out.liveSlot)) },
      { ratePerSecond: options.rate, maxSeconds: 1800 },
    );

    options.log('engine: config-only release');
    await stack.setConfig('app.logLevel', { value: 'warn' }, true);
    const configOnly = await timedUp(stack, eventsFile);

    options.log('engine: code change (warm build cache)');
    appendFileSync(join(workDir, CHANGED_SOURCE), `\n// bench: a code change at ${new Date().toISOString()}\n`);
    const codeChange = await timedUp(stack, eventsFile);

    options.log('engine: rollback through the pin');
    const before = await engineOutputs(stack);
    await stack.setConfig('release.rollbackTo', { value: String(before.previousVersion) }, true);
    const rollback = await timedUp(stack, eventsFile);

    const report = await load.stop();
    load = undefined;
    return { firstUp, configOnly, codeChange, rollback, load: report };
  } finally {
    await load?.stop();
    if (stack) await removeEngineStack(stack, workDir);
    execFileSync('git', ['worktree', 'remove', '--force', workDir], { cwd: REPO_ROOT, stdio: 'ignore' });
    rmSync(copy, { recursive: true, force: true });
  }
}
