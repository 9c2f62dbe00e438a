import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeployError } from '../../../components/errors.js';
import { connectDockerEngine, DockerEngine } from '../../../providers/docker/engine.js';
import { openDockerTunnel } from '../../../providers/docker/ssh-tunnel.js';
import { requireDocker, testEngine } from '../../support/images.js';
import { sshdMissing, startSshHost, type SshHost } from '../../support/ssh-host.js';

const missing = sshdMissing();
if (missing && process.env.CI) throw new Error(`CI must run the SSH tests, but ${missing}`);

/** The pids of the ssh processes started with a control socket in `controlDir`. */
function sshProcessesOf(controlDir: string): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout;
  return ps
    .split('\n')
    .filter((line) => /\bssh\b/.test(line) && line.includes(`ControlPath=${controlDir}/`) && / -M\b/.test(line))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

/** Milliseconds per call of `docker container ls` over `calls` calls. */
async function perCallMs(engine: DockerEngine, calls: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < calls; i++) await engine.run(['container', 'ls', '--quiet']);
  return (performance.now() - started) / calls;
}

describe('a Docker host over SSH: one connection for every call', { skip: missing, timeout: 120_000 }, () => {
  let host: SshHost;

  before(async () => {
    await requireDocker();
    host = await startSshHost();
  });
  after(async () => host?.close());

  it('reaches the host\'s engine through a forwarded socket, about as fast as the local engine', async (t) => {
    const tunnel = await openDockerTunnel(`ssh://${host.alias}`, { sshArgs: host.sshArgs });
    try {
      assert.match(tunnel.host, /^unix:\/\//);
      const remote = new DockerEngine({ host: tunnel.host });
      const [local, through] = [(await testEngine.run(['info', '--format', '{{.ID}}'])).trim(), (await remote.run(['info', '--format', '{{.ID}}'])).trim()];
      assert.equal(through, local, 'the same engine, reached over SSH');
      await perCallMs(remote, 3);
      const localMs = await perCallMs(testEngine, 20);
      const sshMs = await perCallMs(remote, 20);
      t.diagnostic(`docker container ls: ${localMs.toFixed(1)} ms a call locally, ${sshMs.toFixed(1)} ms through the SSH tunnel`);
      assert.ok(sshMs < localMs * 2 + 20, `${sshMs.toFixed(1)} ms a call over SSH against ${localMs.toFixed(1)} ms locally`);
    } finally {
      await tunnel.close();
    }
    assert.equal(existsSync(tunnel.host.slice('unix://'.length)), false, 'close removes the local socket');
  });

  it('shares one SSH connection between tunnels, one after the other and at once, and leaves no other behind', async () => {
    const controlDir = mkdtempSync(join(tmpdir(), 'tk-ssh-test-'));
    const open = () => openDockerTunnel(`ssh://${host.alias}`, { sshArgs: host.sshArgs, controlDir, idleSeconds: 3 });
    const together = await Promise.all([open(), open(), open()]);
    try {
      const masters = new Set(together.map((tunnel) => tunnel.masterPid));
      assert.equal(masters.size, 1, 'three tunnels opened at once share one connection');
      for (const tunnel of together) assert.equal((await new DockerEngine({ host: tunnel.host }).run(['info', '--format', '{{.ID}}'])).trim().length > 0, true);
      assert.deepEqual(sshProcessesOf(controlDir), [...masters], 'the connections that lost the race to share are gone');
    } finally {
      await Promise.all(together.map((tunnel) => tunnel.close()));
    }
    const later = await open();
    try {
      assert.equal(later.masterPid, together[0]!.masterPid, 'a later tunnel (a later release process) reuses the connection: no new login');
      assert.equal((await new DockerEngine({ host: later.host }).run(['info', '--format', '{{.ID}}'])).trim().length > 0, true);
      await new Promise((resolve) => setTimeout(resolve, 4_500));
      assert.deepEqual(sshProcessesOf(controlDir), [later.masterPid], 'an open tunnel keeps its connection past the idle time');
    } finally {
      await later.close();
    }
    const deadline = Date.now() + 15_000;
    while (sshProcessesOf(controlDir).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    assert.deepEqual(sshProcessesOf(controlDir), [], 'the shared connection ends once unused for idleSeconds');
  });

  it('replaces a shared connection that was killed, whose control socket stayed behind', async () => {
    const controlDir = mkdtempSync(join(tmpdir(), 'tk-ssh-test-'));
    const open = () => openDockerTunnel(`ssh://${host.alias}`, { sshArgs: host.sshArgs, controlDir, idleSeconds: 2 });
    const first = await open();
    await first.close();
    process.kill(first.masterPid, 'SIGKILL');
    while (sshProcessesOf(controlDir).length > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(readdirSync(controlDir).length, 1, 'the killed master left its control socket');
    const second = await open();
    try {
      assert.notEqual(second.masterPid, first.masterPid);
      assert.equal((await new DockerEngine({ host: second.host }).run(['info', '--format', '{{.ID}}'])).trim().length > 0, true);
    } finally {
      await second.close();
    }
  });

  it('says which host failed and how to check it when SSH cannot connect', async () => {
    await assert.rejects(openDockerTunnel('ssh://nobody@127.0.0.1:1', { sshArgs: ['-o', 'ConnectTimeout=5'] }), (error: unknown) => {
      assert.ok(error instanceof DeployError);
      assert.match(error.message, /Cannot open an SSH connection to the Docker host ssh:\/\/nobody@127\.0\.0\.1:1: ssh exited with 255/);
      assert.match(error.fix ?? '', /ssh -p 1 nobody@127\.0\.0\.1 docker version/);
      return true;
    });
  });

  it('falls back to the docker CLI\'s own ssh:// when no tunnel can be opened, and says so', async () => {
    const reasons: string[] = [];
    const connected = await connectDockerEngine('ssh://nobody@127.0.0.1:1', { onSlowPath: (reason) => reasons.push(reason) });
    assert.equal(connected.engine.options.host, 'ssh://nobody@127.0.0.1:1');
    assert.equal(reasons.length, 1);
    await connected.close();
    const local = await connectDockerEngine(undefined, { onSlowPath: (reason) => reasons.push(reason) });
    assert.equal(local.engine.options.host, undefined);
    assert.equal(reasons.length, 1, 'a local engine needs no tunnel');
  });
});
