import { spawn } from 'node:child_process';
import { DeployError } from '../../components/errors.js';
import { openDockerTunnel, parseSshDockerHost } from './ssh-tunnel.js';

/**
 * The one way the toolkit talks to a Docker host: the `docker` CLI, so `DOCKER_HOST` may be a
 * local socket or `ssh://user@host` exactly as for a person at a terminal.
 *
 * Secrets never go on argv (where `ps` shows them): a step passes `-e NAME` to docker and the
 * value in `env`, which the docker CLI forwards to the container.
 */
export interface DockerEngineOptions {
  /** `DOCKER_HOST`; the CLI's default (local socket) when absent. */
  host?: string;
  /** Path of the docker CLI. @default "docker" */
  binary?: string;
}

export interface DockerRunOptions {
  /** Written to the command's stdin. */
  input?: string | Buffer;
  /** Extra environment for the docker CLI, e.g. values for `-e NAME` passthrough. */
  env?: Record<string, string>;
  /** Kill the command after this long. @default 600_000 */
  timeoutMs?: number;
}

export interface DockerResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export class DockerCommandError extends DeployError {
  constructor(
    readonly args: readonly string[],
    readonly result: DockerResult,
  ) {
    const tail = result.stderr.trim().split('\n').slice(-5).join('\n  ');
    super(`docker ${args.join(' ')} exited with ${result.exitCode}${tail ? `:\n  ${tail}` : ''}`);
    this.name = 'DockerCommandError';
  }
}

export class DockerEngine {
  constructor(readonly options: DockerEngineOptions = {}) {}

  /** Runs `docker <args>`; resolves with the output whatever the exit code. */
  exec(args: readonly string[], options: DockerRunOptions = {}): Promise<DockerResult> {
    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
    if (this.options.host) env.DOCKER_HOST = this.options.host;
    return new Promise((resolve, reject) => {
      const child = spawn(this.options.binary ?? 'docker', args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(
          new DeployError(
            `Cannot run the docker CLI: ${error.message}`,
            'install the Docker CLI (apt-get install docker.io) and check DOCKER_HOST',
          ),
        );
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8') + (signal ? `\nkilled by ${signal}` : ''),
          exitCode: code ?? 1,
        });
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input ?? '');
    });
  }

  /** Runs `docker <args>` and returns stdout; a non-zero exit throws DockerCommandError. */
  async run(args: readonly string[], options: DockerRunOptions = {}): Promise<string> {
    const result = await this.exec(args, options);
    if (result.exitCode !== 0) throw new DockerCommandError(args, result);
    return result.stdout;
  }
}

/** A DockerEngine for `host`, and what to call when the work is done. */
export interface ConnectedEngine {
  engine: DockerEngine;
  close(): Promise<void>;
}

/**
 * The engine a release talks to. An `ssh://` host is reached through one SSH connection kept
 * open for the whole release (ssh-tunnel.ts) rather than one per docker call; if that tunnel
 * cannot be opened (the host's sshd forbids socket forwarding, say), `onSlowPath` is told and
 * the docker CLI's own ssh:// is used, slower but working wherever `docker` works.
 */
export async function connectDockerEngine(host: string | undefined, options: { onSlowPath?: (reason: string) => void } = {}): Promise<ConnectedEngine> {
  const direct = (): ConnectedEngine => ({ engine: new DockerEngine(host ? { host } : {}), close: async () => undefined });
  if (!host || !parseSshDockerHost(host)) return direct();
  try {
    const tunnel = await openDockerTunnel(host);
    return { engine: new DockerEngine({ host: tunnel.host }), close: () => tunnel.close() };
  } catch (error) {
    options.onSlowPath?.((error as Error).message);
    return direct();
  }
}
