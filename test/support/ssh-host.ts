import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

const SSHD = '/usr/sbin/sshd';

/**
 * An SSH server on 127.0.0.1 for this test run only (its own host key, authorized key, config
 * and port), logging in as the current user with a key: a "remote" Docker host that is this
 * machine's engine, reached the way a production host is. `sshArgs` make the ssh client use it
 * (`-F <config>`), with `alias` as the host name in ssh:// URLs.
 */
export interface SshHost {
  alias: string;
  sshArgs: string[];
  /** Where sshd listens on 127.0.0.1, and who logs in: ssh://<user>@127.0.0.1:<port>. */
  port: number;
  user: string;
  /** The client's private key (for ssh-add), and the server's public host key as a known_hosts line for 127.0.0.1:<port>. */
  clientKey: string;
  knownHostsLine: string;
  close(): Promise<void>;
}

export function sshdMissing(): string | undefined {
  return existsSync(SSHD) ? undefined : 'needs OpenSSH\'s server (apt-get install openssh-server; .ci/run installs it)';
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on 127.0.0.1:${port}: ${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function startSshHost(): Promise<SshHost> {
  const dir = mkdtempSync(join(tmpdir(), 'tk-sshd-'));
  const key = (name: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'trapperkeeper-test', '-f', join(dir, name)]);
  key('host_key');
  key('client_key');
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
  chmodSync(join(dir, 'authorized_keys'), 0o600);
  const port = await freePort();
  const user = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'StrictModes no',
      'UsePAM no',
      'AllowStreamLocalForwarding yes',
      `AllowUsers ${user}`,
      '',
    ].join('\n'),
  );
  const alias = 'tk-ssh-test-host';
  writeFileSync(
    join(dir, 'ssh_config'),
    [
      `Host ${alias}`,
      '  HostName 127.0.0.1',
      `  Port ${port}`,
      `  User ${user}`,
      `  IdentityFile ${join(dir, 'client_key')}`,
      '  IdentitiesOnly yes',
      '  UserKnownHostsFile /dev/null',
      '  StrictHostKeyChecking no',
      '  LogLevel ERROR',
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true });
  const child = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-4000);
  });
  await waitForPort(port, child, () => log);
  return {
    alias,
    sshArgs: ['-F', join(dir, 'ssh_config')],
    port,
    user,
    clientKey: join(dir, 'client_key'),
    knownHostsLine: `[127.0.0.1]:${port} ${readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ')}`,
    async close() {
      // The per-connection processes first (each in its own session): the shared connections of
      // providers/docker/ssh-tunnel.ts would otherwise keep theirs for their idle time, and
      // with them the stderr pipe this process reads.
      spawnSync('pkill', ['-TERM', '-P', String(child.pid)]);
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
      child.stderr!.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
