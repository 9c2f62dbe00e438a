import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeployError } from '../../components/errors.js';

/** Where dockerd listens on the remote host (what `docker system dial-stdio` reaches there). */
export const REMOTE_DOCKER_SOCKET = '/var/run/docker.sock';
const OPEN_TIMEOUT_MS = 20_000;

/** `ssh://user@host:2222` as ssh's destination and port; undefined for any other DOCKER_HOST. */
export function parseSshDockerHost(host: string): { destination: string; port?: string } | undefined {
  if (!host.startsWith('ssh://')) return undefined;
  const url = new URL(host);
  const destination = `${url.username ? `${decodeURIComponent(url.username)}@` : ''}${url.hostname}`;
  return url.port ? { destination, port: url.port } : { destination };
}

export interface DockerTunnel {
  /** A DOCKER_HOST for the docker CLI: `unix://<local socket>` forwarded to the remote engine. */
  readonly host: string;
  close(): Promise<void>;
}

export interface DockerTunnelOptions {
  /** Extra ssh arguments before the destination (tests pass `-F <config>`). */
  sshArgs?: readonly string[];
  /** @default REMOTE_DOCKER_SOCKET */
  remoteSocket?: string;
  /** @default 20000 */
  timeoutMs?: number;
}

function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * One SSH connection for every docker call of a release. With `DOCKER_HOST=ssh://…` the docker
 * CLI opens a new SSH session and starts `docker system dial-stdio` on the host for each call,
 * which made a release over SSH several times slower than on a local engine. Here one `ssh -N`
 * forwards a local Unix socket to the host's Docker socket for as long as the release runs,
 * and every call goes through it. The ssh client reads ~/.ssh/config as for the docker CLI;
 * the host's sshd must allow stream-local forwarding (OpenSSH's default) and the user must be
 * able to use the Docker socket (the docker group), as `ssh://` needs anyway.
 */
export async function openDockerTunnel(sshHost: string, options: DockerTunnelOptions = {}): Promise<DockerTunnel> {
  const target = parseSshDockerHost(sshHost);
  if (!target) throw new Error(`openDockerTunnel needs an ssh:// host, not ${sshHost}`);
  const dir = mkdtempSync(join(tmpdir(), 'tk-docker-ssh-'));
  const localSocket = join(dir, 'docker.sock');
  const child = spawn(
    'ssh',
    [
      ...(options.sshArgs ?? []),
      '-N',
      '-o', 'BatchMode=yes',
      '-o', 'ExitOnForwardFailure=yes',
      '-o', 'ServerAliveInterval=15',
      '-o', 'ServerAliveCountMax=4',
      '-L', `${localSocket}:${options.remoteSocket ?? REMOTE_DOCKER_SOCKET}`,
      ...(target.port ? ['-p', target.port] : []),
      target.destination,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) => child.once('exit', (code) => {
    exited = code;
    resolve();
  }));
  child.once('error', (error) => {
    stderr += error.message;
  });

  const close = async () => {
    if (exited === undefined) {
      child.kill('SIGTERM');
      await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      if (exited === undefined) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.timeoutMs ?? OPEN_TIMEOUT_MS);
  for (;;) {
    if (exited !== undefined) {
      await close();
      throw new DeployError(
        `Cannot open an SSH connection to the Docker host ${sshHost}: ssh exited with ${exited ?? 'a signal'}${stderr.trim() ? `: ${stderr.trim()}` : ''}`,
        `check that \`ssh ${target.port ? `-p ${target.port} ` : ''}${target.destination} docker version\` works without a password prompt (a key in ssh-agent, the host in known_hosts)`,
      );
    }
    if (await canConnect(localSocket)) return { host: `unix://${localSocket}`, close };
    if (Date.now() > deadline) {
      await close();
      throw new DeployError(`The SSH connection to ${sshHost} did not come up within ${options.timeoutMs ?? OPEN_TIMEOUT_MS} ms`, 'check the host and the network, then try again');
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
