/**
 * The deploy benchmark's engine part: what a person waits for at the prompt, `pulumi up` through
 * the real engine (Automation API) on a copy of this commit, under load through the public
 * endpoints: a config-only release, a code change with a warm build cache, and `tkctl rollback`
 * (traffic first, then recorded through the release.rollbackTo pin); then a config-only release
 * and a rollback of a stack whose docker.host is ssh://. Skipped with the reason where the
 * engine's plugins are missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { EngineEvent, Stack } from '@pulumi/pulumi/automation/index.js';
import { REPO_ROOT } from '../test/support/images.js';
import type { LoadReport, LoadRequests } from '../test/support/load.js';
import { startLoadInWorker } from './load-worker.js';
import {
  checkEngineRequirements,
  createEngineStack,
  engineOutputs,
  engineStackEnv,
  liveApiKey,
  removeEngineStack,
  type EngineStackOptions,
} from '../test/support/pulumi-engine.js';
import { sshClientMissing, startSshClient, type SshClient } from '../test/support/ssh-client.js';
import { sshdMissing, startSshHost, type SshHost } from '../test/support/ssh-host.js';

/** When something ran (epoch ms), to count the load's failures inside it. */
export interface Window {
  start: number;
  end: number;
}

export interface EngineUp {
  seconds: number;
  window: Window;
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

/** `tkctl rollback --json` as an operator runs it: traffic moved and verified first, then recorded by `pulumi up`. */
export interface TkctlRollback {
  seconds: number;
  window: Window;
  /** From tkctl's start until traffic was verified on the previous release. */
  switchedMs: number | null;
  /** From tkctl's start until the rollback was recorded in the stack. */
  durationMs: number;
  /** The traffic move, from the release process's events: when it started (after tkctl's start) and its phases. */
  move: { startedAfterMs: number; phases: Record<string, number> } | null;
  /**
   * `tkctl --help` run once before, in the fresh checkout: the compile cache compiles tkctl there
   * (as an operator's first tkctl command after a pull does), so the rollback is timed warm.
   */
  firstTkctlSeconds: number;
}

/** One stack's ups under load: a config-only release, a code change (local engine only) and a rollback. */
export interface EngineRun {
  firstUp: EngineUp;
  configOnly: EngineUp;
  codeChange: EngineUp | null;
  rollback: TkctlRollback;
  load: LoadReport;
}

export type EngineBench = { skipped: string } | { local: EngineRun; ssh: EngineRun | { skipped: string } };

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
  const startedAt = Date.now();
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
    window: { start: startedAt, end: Date.now() },
    phases: succeeded?.phases ?? null,
    releaseSeconds: times.length > 1 ? (Math.max(...times) - Math.min(...times)) / 1000 : null,
    engine,
  };
}

async function tkctlRollback(workDir: string, stackName: string, env: Record<string, string>, eventsFile: string): Promise<TkctlRollback> {
  const warmUpStarted = performance.now();
  const warmUp = spawnSync(process.execPath, [join(workDir, 'tkctl/bin.mjs'), '--help'], { cwd: workDir, env: { ...process.env, ...env }, encoding: 'utf8' });
  if (warmUp.status !== 0) throw new Error(`tkctl --help exited ${warmUp.status}: ${warmUp.stderr.slice(-3000)}`);
  const firstTkctlSeconds = (performance.now() - warmUpStarted) / 1000;
  const seen = readEvents(eventsFile).length;
  const startedAt = Date.now();
  const started = performance.now();
  const run = spawnSync(process.execPath, [join(workDir, 'tkctl/bin.mjs'), 'rollback', '--json', '--stack', stackName], {
    cwd: workDir,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`tkctl rollback --stack ${stackName} exited ${run.status}: ${run.stderr.slice(-3000)}`);
  const result = JSON.parse(run.stdout) as { switchedMs: number | null; durationMs: number };
  // The first release of the rollback moves the traffic (tkctl runs the recorded release command); the second is pulumi up recording it.
  const events = readEvents(eventsFile).slice(seen);
  const moveStarted = events.find((e) => e.event === 'release.started');
  const moveDone = events.find((e) => e.event === 'release.succeeded');
  const move = moveStarted?.time && moveDone?.phases ? { startedAfterMs: Date.parse(moveStarted.time) - startedAt, phases: moveDone.phases } : null;
  return { seconds: (performance.now() - started) / 1000, window: { start: startedAt, end: Date.now() }, switchedMs: result.switchedMs, durationMs: result.durationMs, move, firstTkctlSeconds };
}

interface BenchStack {
  options: EngineStackOptions;
  stack: Stack;
}

async function benchStack(
  bench: BenchStack,
  options: { rate: number; requests: LoadRequests; codeChange: boolean; workDir: string; log: (line: string) => void },
): Promise<EngineRun> {
  const { stack } = bench;
  const eventsFile = join(bench.options.scratch, 'events.jsonl');
  const env = { ...engineStackEnv(bench.options), PATH: bench.options.env?.PATH ?? `${dirname(bench.options.cli)}:${process.env.PATH}` };
  options.log(`engine ${stack.name}: first pulumi up (builds the image, starts the stack)`);
  const firstUp = await timedUp(stack, eventsFile);
  const out = await engineOutputs(stack);
  const load = startLoadInWorker(
    { httpUrl: String(out.publicHttpUrl), grpcAddress: String(out.publicGrpcAddress), apiKey: liveApiKey(stack.name, String(out.liveSlot)) },
    // A connection per 5 requests a second, as many clients would hold: 32 at 1,300 req/s made
    // this process queue requests (and time them out) whenever answers slowed past 50 ms. At most
    // half a second of requests waits for answers: unbounded, the load timed out most of its own
    // requests during a release, and the stack behind it saw a fifth of the rate.
    {
      ratePerSecond: options.rate,
      maxSeconds: 1800,
      requests: options.requests,
      connections: Math.max(32, Math.ceil(options.rate / 5)),
      maxInFlight: Math.max(50, Math.ceil(options.rate / 2)),
    },
  );
  let stopped: LoadReport | undefined;
  try {
    options.log(`engine ${stack.name}: config-only release`);
    await stack.setConfig('app.logLevel', { value: 'warn' }, true);
    const configOnly = await timedUp(stack, eventsFile);

    let codeChange: EngineUp | null = null;
    if (options.codeChange) {
      options.log(`engine ${stack.name}: code change (warm build cache)`);
      // Committed, as a deploy is: a dirty tree would make every later up tag (and build) again.
      appendFileSync(join(options.workDir, CHANGED_SOURCE), `\n// bench: a code change at ${new Date().toISOString()}\n`);
      execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', 'commit', '-qam', 'bench: a code change'], { cwd: options.workDir });
      codeChange = await timedUp(stack, eventsFile);
    }

    options.log(`engine ${stack.name}: tkctl rollback`);
    const rollback = await tkctlRollback(options.workDir, stack.name, env, eventsFile);
    stopped = await load.stop();
    return { firstUp, configOnly, codeChange, rollback, load: stopped };
  } finally {
    if (!stopped) await load.stop();
  }
}

/**
 * Through the engine on the local Docker engine, then (unless `ssh` is false or OpenSSH is
 * missing) the same on a stack whose docker.host is ssh:// to this machine's engine behind an
 * sshd on 127.0.0.1, reached with the SSH client set up as a maintainer has it.
 */
export async function benchThroughEngine(options: {
  rate: number;
  requests: LoadRequests;
  ssh: boolean;
  /** Where the releases' events files are copied (the results folder). */
  out: string;
  log: (line: string) => void;
}): Promise<EngineBench> {
  const requirements = checkEngineRequirements();
  if (requirements.missing.length > 0) return { skipped: `needs ${requirements.missing.join('; ')}` };
  const cli = requirements.cli!;

  // A copy of this commit: the code change is committed there, never in this checkout.
  const copy = mkdtempSync(join(tmpdir(), 'tk-bench-engine-'));
  const workDir = join(copy, 'repo');
  execFileSync('git', ['worktree', 'add', '--detach', workDir, 'HEAD'], { cwd: REPO_ROOT, stdio: 'ignore' });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(workDir, 'node_modules'));
  const stacks: BenchStack[] = [];
  const open = async (name: string, extra: Partial<EngineStackOptions>): Promise<BenchStack> => {
    const scratch = join(copy, name);
    mkdirSync(scratch, { recursive: true });
    const stackOptions: EngineStackOptions = { cli, stackName: `${name}-${process.pid}`, workDir, scratch, ...extra };
    const opened = { options: stackOptions, stack: await createEngineStack(stackOptions) };
    stacks.push(opened);
    return opened;
  };
  let sshHost: SshHost | undefined;
  let sshClient: SshClient | undefined;
  try {
    const local = await benchStack(await open('bench', {}), { ...options, codeChange: true, workDir });

    const sshSkip = !options.ssh ? '--no-ssh' : (sshdMissing() ?? sshClientMissing());
    let ssh: EngineRun | { skipped: string };
    if (sshSkip) ssh = { skipped: sshSkip };
    else {
      sshHost = await startSshHost();
      const clientDir = join(copy, 'ssh-client');
      mkdirSync(clientDir);
      sshClient = await startSshClient(sshHost, clientDir, `${dirname(cli)}:${process.env.PATH}`);
      const remote = await open('bench-ssh', { dockerHost: sshClient.url, env: sshClient.env });
      ssh = await benchStack(remote, { ...options, codeChange: false, workDir });
    }
    return { local, ssh };
  } finally {
    // The events of every release and rollback, for reading a slow phase back later.
    mkdirSync(options.out, { recursive: true });
    for (const { options: opened } of stacks) {
      const events = join(opened.scratch, 'events.jsonl');
      if (existsSync(events)) copyFileSync(events, join(options.out, `deploy-bench-events-${opened.stackName.replace(/-\d+$/, '')}.jsonl`));
    }
    for (const { stack } of stacks.reverse()) await removeEngineStack(stack, workDir);
    sshClient?.close();
    await sshHost?.close();
    execFileSync('git', ['worktree', 'remove', '--force', workDir], { cwd: REPO_ROOT, stdio: 'ignore' });
    rmSync(copy, { recursive: true, force: true });
  }
}
