import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SshHost } from './ssh-host.js';

/**
 * The SSH client side as a maintainer has it, for a process tree that reaches `host` by its
 * ssh:// URL alone (the docker provider plugin, the docker CLI, the release process's tunnel):
 *   - the client key in an ssh-agent (SSH_AUTH_SOCK);
 *   - the host key in a known_hosts file, checked strictly, never "accept any host key".
 * OpenSSH reads ~/.ssh/known_hosts from the passwd entry's home, not $HOME, and a test or a
 * benchmark must not write the machine's real ~/.ssh. So an `ssh` first on PATH adds
 * `-o UserKnownHostsFile=<known_hosts>` (and BatchMode, so nothing hangs on a prompt), logs each
 * invocation to `log`, and execs the real ssh: every SSH client above execs `ssh` from PATH.
 */
export interface SshClient {
  /** ssh://<user>@127.0.0.1:<port> */
  url: string;
  /** Merge into the environment of whatever must reach the host (PATH first, SSH_AUTH_SOCK). */
  env: { PATH: string; SSH_AUTH_SOCK: string };
  /** Where the wrapper logs each ssh invocation's arguments, one per line. */
  log: string;
  close(): void;
}

export function sshClientMissing(): string | undefined {
  const has = (name: string) => spawnSync('bash', ['-c', `command -v ${name}`]).status === 0;
  return has('ssh') && has('ssh-agent') && has('ssh-add') ? undefined : 'OpenSSH\'s client (ssh, ssh-agent, ssh-add: apt-get install openssh-client)';
}

/** Sets up the client side in `dir` (which must exist), with `pathTail` after the wrapper on PATH. */
export async function startSshClient(host: SshHost, dir: string, pathTail: string): Promise<SshClient> {
  const realSsh = spawnSync('bash', ['-c', 'command -v ssh'], { encoding: 'utf8' }).stdout.trim();
  if (!realSsh) throw new Error(`no ssh client: ${sshClientMissing()}`);
  const agentSocket = join(dir, 'agent.sock');
  const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
  for (let waited = 0; !existsSync(agentSocket); waited += 50) {
    if (waited > 10_000 || agent.exitCode !== null) {
      agent.kill('SIGTERM');
      throw new Error(`ssh-agent did not create ${agentSocket}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const added = spawnSync('ssh-add', [host.clientKey], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket }, encoding: 'utf8' });
  if (added.status !== 0) {
    agent.kill('SIGTERM');
    throw new Error(`ssh-add ${host.clientKey}: ${added.stderr}`);
  }
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `${host.knownHostsLine}\n`);
  const log = join(dir, 'ssh-invocations.log');
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, 'ssh'),
    [
      '#!/bin/sh',
      '# Stands in for ~/.ssh/known_hosts (see test/support/ssh-client.ts); logs each invocation.',
      `printf '%s\\n' "$*" >> '${log}'`,
      `exec '${realSsh}' -o UserKnownHostsFile='${knownHosts}' -o StrictHostKeyChecking=yes -o BatchMode=yes "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(join(bin, 'ssh'), 0o755);
  return {
    url: `ssh://${host.user}@127.0.0.1:${host.port}`,
    env: { PATH: `${bin}:${pathTail}`, SSH_AUTH_SOCK: agentSocket },
    log,
    close: () => void agent.kill('SIGTERM'),
  };
}
