import { spawn } from 'node:child_process';
import { closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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
  /** The shared SSH connection's process (the ControlMaster) the socket is forwarded through. */
  readonly masterPid: number;
  close(): Promise<void>;
}

export interface DockerTunnelOptions {
  /** Extra ssh arguments before the destination (tests pass `-F <config>`). */
  sshArgs?: readonly string[];
  /** @default REMOTE_DOCKER_SOCKET */
  remoteSocket?: string;
  /** @default 20000 */
  timeoutMs?: number;
  /** Where the shared connections' control sockets live (mode 0700, this user's). @default <tmpdir>/tk-ssh-<uid> */
  controlDir?: string;
  /** How long a shared connection stays open after its last use. @default SHARED_CONNECTION_IDLE_SECONDS */
  idleSeconds?: number;
}

/** A shared connection outlives the process that opened it by this long unused (OpenSSH's ControlPersist). */
export const SHARED_CONNECTION_IDLE_SECONDS = 600;

interface SshCall {
  code: number | null;
  stdout: string;
  stderr: string;
}

function ssh(args: readonly string[], timeoutMs: number): Promise<SshCall> {
  return new Promise((resolve) => {
    const child = spawn('ssh', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', (error) => resolve({ code: null, stdout, stderr: `${stderr}${error.message}` }));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The folder of this user's control sockets, created 0700; refused when anyone else could use it. */
function controlDirOf(requested: string | undefined): string {
  const dir = requested ?? join(tmpdir(), `tk-ssh-${process.getuid?.() ?? 'user'}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  const uid = process.getuid?.();
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o077) !== 0) {
    throw new DeployError(`${dir} is not a private folder of this user (mode ${(stat.mode & 0o777).toString(8)}), so it cannot hold SSH control sockets`, `rm -rf ${dir} (it is recreated with mode 0700)`);
  }
  return dir;
}

function masterPidOf(check: SshCall): number | undefined {
  const match = /pid=(\d+)/.exec(`${check.stdout}${check.stderr}`);
  return check.code === 0 && match ? Number(match[1]) : undefined;
}

function connectToSocket(path: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => resolve(undefined));
  });
}

/**
 * One SSH connection per Docker host, shared by every docker call of every release, rollback
 * and tkctl command while it is in use, and for SHARED_CONNECTION_IDLE_SECONDS after. With
 * `DOCKER_HOST=ssh://…` the docker CLI opens a new SSH session for each call, and even one
 * session per process costs a login (key exchange, authentication, the host's sshd starting a
 * session) on every release and rollback, which took seconds on a busy host. So the first
 * process starts an OpenSSH ControlMaster in the background (as Kamal keeps its connections
 * open), and each tunnel asks it (`ssh -O forward`) to forward a local Unix socket to the host's
 * Docker socket; close() cancels that forward. The ssh client reads ~/.ssh/config as for the
 * docker CLI; the host's sshd must allow stream-local forwarding (OpenSSH's default) and the
 * user must be able to use the Docker socket (the docker group), as `ssh://` needs anyway.
 * `ssh -O exit -o ControlPath=<controlDir>/%C <host>` ends a shared connection early.
 */
export async function openDockerTunnel(sshHost: string, options: DockerTunnelOptions = {}): Promise<DockerTunnel> {
  const target = parseSshDockerHost(sshHost);
  if (!target) throw new Error(`openDockerTunnel needs an ssh:// host, not ${sshHost}`);
  const timeoutMs = options.timeoutMs ?? OPEN_TIMEOUT_MS;
  const controlDir = controlDirOf(options.controlDir);
  const controlPath = join(controlDir, '%C');
  const shared = [...(options.sshArgs ?? []), '-o', `ControlPath=${controlPath}`, ...(target.port ? ['-p', target.port] : [])];
  const howToCheck = `check that \`ssh ${target.port ? `-p ${target.port} ` : ''}${target.destination} docker version\` works without a password prompt (a key in ssh-agent, the host in known_hosts)`;

  const masterPid = await sharedConnection(sshHost, target.destination, shared, { controlDir, timeoutMs, idleSeconds: options.idleSeconds ?? SHARED_CONNECTION_IDLE_SECONDS, howToCheck });
  const dir = mkdtempSync(join(tmpdir(), 'tk-docker-ssh-'));
  const forward = ['-L', `${join(dir, 'docker.sock')}:${options.remoteSocket ?? REMOTE_DOCKER_SOCKET}`];
  const forwarded = await ssh([...shared, '-O', 'forward', ...forward, target.destination], timeoutMs);
  // Held open for the tunnel's life: the shared connection never counts as idle while it is in use.
  const held = forwarded.code === 0 ? await connectToSocket(join(dir, 'docker.sock')) : undefined;
  const close = async () => {
    held?.destroy();
    await ssh([...shared, '-O', 'cancel', ...forward, target.destination], timeoutMs);
    rmSync(dir, { recursive: true, force: true });
  };
  if (!held) {
    await close();
    throw new DeployError(
      `Cannot forward the Docker socket of ${sshHost} over SSH${forwarded.stderr.trim() ? `: ${forwarded.stderr.trim()}` : ''}`,
      'the host\'s sshd must allow stream-local forwarding (AllowStreamLocalForwarding, OpenSSH\'s default) and the user must reach /var/run/docker.sock (the docker group)',
    );
  }
  held.unref();
  held.on('error', () => undefined);
  return { host: `unix://${join(dir, 'docker.sock')}`, masterPid, close };
}

/**
 * The pid of the host's shared connection, started when there is none. Two processes that start
 * one at the same moment both try; OpenSSH lets one bind the control socket and turns the other
 * into a plain connection, which is ended here so that none is left behind.
 */
async function sharedConnection(
  sshHost: string,
  destination: string,
  shared: string[],
  options: { controlDir: string; timeoutMs: number; idleSeconds: number; howToCheck: string },
): Promise<number> {
  const check = async () => {
    const answer = await ssh([...shared, '-O', 'check', destination], options.timeoutMs);
    // A control socket left by a master that was killed: OpenSSH would not replace it.
    const stale = /Control socket connect\((.+)\): Connection refused/.exec(answer.stderr)?.[1];
    if (stale && dirname(stale) === options.controlDir) rmSync(stale, { force: true });
    return masterPidOf(answer);
  };
  const running = await check();
  if (running !== undefined) return running;

  // The master's stderr: read when it fails to connect, removed once it runs.
  const log = join(options.controlDir, `master-${process.pid}-${Date.now()}.log`);
  const logFd = openSync(log, 'w', 0o600);
  const master = spawn(
    'ssh',
    [
      ...shared,
      '-M',
      '-N',
      '-o', `ControlPersist=${options.idleSeconds}`,
      '-o', 'BatchMode=yes',
      '-o', 'ServerAliveInterval=15',
      '-o', 'ServerAliveCountMax=4',
      destination,
    ],
    { stdio: ['ignore', 'ignore', logFd], detached: true },
  );
  closeSync(logFd);
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) => {
    master.once('exit', (code) => resolve(void (exited = code)));
    master.once('error', () => resolve(void (exited = null)));
  });
  const end = async () => {
    if (exited !== undefined) return;
    master.kill('SIGTERM');
    await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
  };
  master.unref();
  const failed = (why: string) => {
    const stderr = readFileSync(log, 'utf8').trim();
    rmSync(log, { force: true });
    return new DeployError(`Cannot open an SSH connection to the Docker host ${sshHost}: ${why}${stderr ? `: ${stderr}` : ''}`, options.howToCheck);
  };

  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const pid = await check();
    if (pid !== undefined) {
      // With ControlPersist, a master forks into the background once connected and the process
      // started here exits 0. One still running under another master's pid lost the race: it is
      // a plain connection beside the shared one.
      if (pid !== master.pid) await end();
      rmSync(log, { force: true });
      return pid;
    }
    if (exited !== undefined && exited !== 0) throw failed(`ssh exited with ${exited ?? 'a signal'}`);
    if (Date.now() > deadline) {
      await end();
      throw failed(`no connection within ${options.timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
