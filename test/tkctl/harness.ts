import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../support/images.js';
import { writeProgramStandIn } from '../support/program-stand-in.js';
import type { TkctlIo } from '../../tkctl/io.js';

/**
 * tkctl run as an operator runs it: the `tkctl` bin in a Pulumi project folder, against a real
 * Pulumi CLI with a file:// backend and a passphrase in a temporary folder.
 */
export const TKCTL_BIN = join(REPO_ROOT, 'tkctl/bin.mjs');

export function findPulumiCli(): string | undefined {
  const found = spawnSync('bash', [join(REPO_ROOT, 'scripts/pulumi-cli.sh'), '--no-build'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() || undefined : undefined;
}

export const NO_PULUMI_CLI = 'no Pulumi CLI: install one, or run `bash scripts/pulumi-cli.sh` to build it from the Go module proxy';

export interface TkctlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TkctlProject {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Runs `tkctl <args>` in the project folder; `input` is piped to its stdin. */
  tkctl(args: string[], options?: { input?: string; env?: NodeJS.ProcessEnv }): Promise<TkctlResult>;
  /** Runs a line as a person types it (tkctl and pulumi on PATH), through bash in the project folder. */
  sh(line: string): TkctlResult;
  /** Runs the Pulumi CLI in the project folder (the same backend and passphrase). */
  pulumi(args: string[], options?: { input?: string }): TkctlResult;
  remove(): void;
}

/** A scratch project: this repository's Pulumi.yaml (and the stack files named) copied into a temporary folder. */
export function createTkctlProject(cli: string, stackFiles: string[] = []): TkctlProject {
  const scratch = mkdtempSync(join(tmpdir(), 'tk-tkctl-'));
  const dir = join(scratch, 'project');
  mkdirSync(dir);
  mkdirSync(join(scratch, 'state'));
  for (const file of ['Pulumi.yaml', ...stackFiles]) copyFileSync(join(REPO_ROOT, file), join(dir, file));
  // The CLI checks that the program's entry exists even when it does not run it (destroying an
  // empty stack); these projects never run the program, so an empty one stands in.
  writeProgramStandIn(dir);
  // `tkctl` on PATH, as `npm link` or `npx tkctl` would give it, so printed fixes run verbatim.
  const bin = join(scratch, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'tkctl'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(TKCTL_BIN)} "$@"\n`);
  chmodSync(join(bin, 'tkctl'), 0o755);
  const env: NodeJS.ProcessEnv = {
    PATH: `${bin}:${dirname(cli)}:${process.env.PATH}`,
    HOME: scratch,
    PULUMI_HOME: join(scratch, '.pulumi'),
    PULUMI_BACKEND_URL: `file://${join(scratch, 'state')}`,
    PULUMI_CONFIG_PASSPHRASE: 'tkctl-test',
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
    ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
  };
  return {
    dir,
    env,
    tkctl(args, options = {}) {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [TKCTL_BIN, ...args], { cwd: dir, env: { ...env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
        child.stdin.end(options.input ?? '');
      });
    },
    sh(line) {
      const result = spawnSync('bash', ['-c', line], { cwd: dir, env, encoding: 'utf8' });
      return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
    },
    pulumi(args, options = {}) {
      const result = spawnSync(cli, args, { cwd: dir, env, input: options.input ?? '', encoding: 'utf8' });
      return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
    },
    remove: () => rmSync(scratch, { recursive: true, force: true }),
  };
}

/**
 * tkctl in this process (runTkctl) with its output captured: for tests that need no Pulumi CLI.
 * `targets` points a cloud stack's commands at emulators (TkctlIo.targets).
 */
export async function runTkctlInProcess(args: string[], cwd: string, input?: string, targets?: TkctlIo['targets']): Promise<TkctlResult> {
  const run = startTkctlInProcess(args, cwd, input, targets);
  const code = await run.exited;
  return { code, stdout: run.stdout, stderr: run.stderr };
}

/** A tkctl command running in this process: its output so far, and its exit code once it ends. */
export interface TkctlInProcess {
  readonly stdout: string;
  readonly stderr: string;
  exited: Promise<number>;
}

/** Starts tkctl in this process (as runTkctlInProcess) for a command that runs until stopped (`logs --follow`): its output can be read while it runs. */
export function startTkctlInProcess(args: string[], cwd: string, input?: string, targets?: TkctlIo['targets']): TkctlInProcess {
  const output = { stdout: '', stderr: '' };
  const exited = (async () => {
    const { Readable, Writable } = await import('node:stream');
    const { runTkctl } = await import('../../tkctl/main.js');
    const sink = (append: (text: string) => void) =>
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          append(chunk.toString('utf8'));
          callback();
        },
      });
    return runTkctl(args, {
      stdout: sink((text) => (output.stdout += text)),
      stderr: sink((text) => (output.stderr += text)),
      cwd,
      stdin: Readable.from(input === undefined ? [] : [Buffer.from(input)]),
      ...(targets ? { targets } : {}),
    });
  })();
  return {
    get stdout() {
      return output.stdout;
    },
    get stderr() {
      return output.stderr;
    },
    exited,
  };
}
