import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseHmacSecret, type HmacSecret } from '../../src/auth/hmac-secrets.js';

/**
 * Runs the `trapperkeeper` command as an operator would: a real child process
 * (`node --import tsx src/cli/main.ts ...`) in its own temporary directory and HOME, so no
 * config file or TK_* variable of the machine running the tests leaks in.
 */

export const CLI_MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
/** The installed command: bin/trapperkeeper.js running the compiled dist/ (see buildApp). */
export const BUILT_BIN = fileURLToPath(new URL('../../bin/trapperkeeper.js', import.meta.url));
/** tsx resolved from here: the child's cwd is a temp dir, where a bare `tsx` would not resolve. */
const TSX_LOADER = import.meta.resolve('tsx');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `<32 hex id>:<base64 of 32 random bytes>`, the TK_HMAC_SECRET format. */
export function generateHmacSecretValue(): string {
  return `${randomBytes(16).toString('hex')}:${randomBytes(32).toString('base64')}`;
}

export function parseSecretValue(value: string): HmacSecret {
  const parsed = parseHmacSecret(value);
  if (typeof parsed === 'string') throw new Error(`bad test secret: ${parsed}`);
  return parsed;
}

/** A temporary directory used as cwd and HOME, with a fresh TK_HMAC_SECRET. */
export class Workspace {
  readonly dir = mkdtempSync(join(tmpdir(), 'tk-cli-'));
  readonly hmacSecretValue = generateHmacSecretValue();
  readonly hmacSecret = parseSecretValue(this.hmacSecretValue);

  /** The environment a child gets: PATH and friends, no inherited TK_*, plus `extra` (undefined removes). */
  env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (!name.startsWith('TK_') && !name.startsWith('NODE_TEST')) env[name] = value;
    }
    env.HOME = this.dir;
    env.TK_HMAC_SECRET = this.hmacSecretValue;
    env.TK_LOG_LEVEL = 'warn';
    for (const [name, value] of Object.entries(extra)) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    return env;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface SpawnOptions {
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed; stdin is an empty closed pipe otherwise. */
  input?: string;
  /** Run the compiled command (bin/trapperkeeper.js) instead of the sources under tsx. */
  built?: boolean;
}

const running = new Set<ChildProcess>();

function spawnCli(workspace: Workspace, args: string[], options: SpawnOptions = {}): {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  exited: Promise<CliResult>;
} {
  const entry = options.built ? [BUILT_BIN] : ['--import', TSX_LOADER, CLI_MAIN];
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: workspace.dir,
    env: workspace.env(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group, so killChildren() also reaches the services `start` spawns.
    detached: true,
  });
  running.add(child);
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { output.stdout += chunk; });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { output.stderr += chunk; });
  child.stdin!.on('error', () => {}); // the child may exit before reading its input
  child.stdin!.end(options.input ?? '');
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, ...output });
    });
  });
  return { child, output, exited };
}

/** Runs a command to completion (killed after `timeoutMs`) and returns its exit code and output. */
export async function runCli(
  workspace: Workspace,
  args: string[],
  options: SpawnOptions & { timeoutMs?: number } = {},
): Promise<CliResult> {
  const { child, exited } = spawnCli(workspace, args, options);
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Fails with the full output when the command did not exit 0. */
export function assertSucceeded(result: CliResult, what: string): CliResult {
  if (result.code !== 0) {
    throw new Error(`${what} exited with ${result.code ?? result.signal}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
  }
  return result;
}

export interface RunningCli {
  child: ChildProcess;
  /** Everything printed so far. */
  output: { stdout: string; stderr: string };
  exited: Promise<CliResult>;
  /** Polls `url` until it answers 200; fails early if the process exits. */
  waitReady(url: string, timeoutMs?: number): Promise<void>;
  /** Waits until stdout matches `pattern`; fails early if the process exits. */
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends `signal` and waits for the exit; SIGKILLs after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<CliResult>;
}

/** Starts a long-running command (a service, `start`); killChildren() ends any left running. */
export function startCli(workspace: Workspace, args: string[], options: SpawnOptions = {}): RunningCli {
  const { child, output, exited } = spawnCli(workspace, args, options);
  let exitedWith: CliResult | undefined;
  void exited.then((result) => { exitedWith = result; });
  return {
    child,
    output,
    exited,
    async waitReady(url, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (exitedWith) {
          throw new Error(`${args.join(' ')} exited (${exitedWith.code ?? exitedWith.signal}) before ${url} was ready\n--- stdout\n${exitedWith.stdout}\n--- stderr\n${exitedWith.stderr}`);
        }
        try {
          const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
          await response.arrayBuffer();
          if (response.status === 200) return;
        } catch {
          // not listening yet
        }
        await sleep(100);
      }
      throw new Error(`${url} not ready within ${timeoutMs} ms\n--- stdout\n${output.stdout}\n--- stderr\n${output.stderr}`);
    },
    async waitForStdout(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output.stdout)) {
        if (exitedWith || Date.now() > deadline) {
          throw new Error(`${args.join(' ')} ${exitedWith ? 'exited' : 'timed out'} before printing ${pattern}\n--- stdout\n${output.stdout}\n--- stderr\n${output.stderr}`);
        }
        await sleep(50);
      }
    },
    async stop(signal = 'SIGTERM', timeoutMs = 20_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** SIGKILLs every CLI process still running, with whatever it spawned (call in `after`/finally). */
export async function killChildren(): Promise<void> {
  const left = [...running];
  await Promise.all(left.map((child) => new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is gone already; 'close' follows once the pipes drain
    }
  })));
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Ports and arguments for running sensor-api and web-ui on 127.0.0.1. */
export interface ServicePorts {
  grpc: number;
  sensorHttp: number;
  web: number;
  /** web-ui's internal port: /metrics, /healthz, /readyz. */
  webMetrics: number;
}

export async function allocatePorts(): Promise<ServicePorts> {
  const ports = new Set<number>();
  while (ports.size < 4) ports.add(await freePort());
  const [grpc, sensorHttp, web, webMetrics] = [...ports] as [number, number, number, number];
  return { grpc, sensorHttp, web, webMetrics };
}

export function sensorApiArgs(ports: ServicePorts): string[] {
  return ['sensor-api', '--host', '127.0.0.1', '--port', String(ports.grpc), '--http-port', String(ports.sensorHttp)];
}

export function webUiArgs(ports: ServicePorts): string[] {
  return ['web-ui', '--host', '127.0.0.1', '--port', String(ports.web), '--metrics-port', String(ports.webMetrics)];
}

export function sensorReadyUrl(ports: ServicePorts): string {
  return `http://127.0.0.1:${ports.sensorHttp}/readyz`;
}

export function webReadyUrl(ports: ServicePorts): string {
  return `http://127.0.0.1:${ports.web}/readyz`;
}
