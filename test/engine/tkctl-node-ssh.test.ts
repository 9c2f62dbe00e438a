/**
 * A maintainer's node through the Pulumi engine, over SSH, as issue 17's "done when" describes it:
 * `tkctl node add <name> --host ssh://<user>@127.0.0.1:<port>` makes a stack from Pulumi.prod.yaml,
 * then `tkctl up --stack <name>` deploys it with the docker provider (and the release process)
 * reaching the Docker engine over ssh://, then status, backup, restore, rollback and destroy, each
 * as the operator types it (the tkctl bin, in the project folder).
 *
 * The "node" is this machine's own Docker engine behind a throwaway sshd on 127.0.0.1
 * (test/support/ssh-host.ts). The SSH client side is set up the way a maintainer has it:
 *   - the key is in an ssh-agent (SSH_AUTH_SOCK), as `tkctl node add --help` asks;
 *   - the host key is in a known_hosts file, checked strictly (never "accept any host key");
 *   - the host, port and user come from the ssh:// URL in docker.host, nothing else.
 * The one stand-in, an `ssh` first on PATH for known_hosts (test/support/ssh-client.ts): every SSH
 * client on the path execs it (the docker provider plugin through Docker's connection helper, the
 * docker CLI, the release process's tunnel in providers/docker/ssh-tunnel.ts); it logs each
 * invocation, and the test asserts both the provider's `docker system dial-stdio` sessions and the
 * release's forwarded socket went through it.
 *
 * The prod template is used as it is, except what a run on this machine needs (set after node add,
 * each with `pulumi config set --path`, see LOCAL_OVERRIDES): 127.0.0.1 instead of 0.0.0.0, free
 * ports instead of 80/50051, the local tk-offline base images (no registry here), and
 * release.allowDirty (the working tree under test may hold uncommitted changes). The template sets
 * no domain (its docker.domain and acmeEmail are commented out), so nothing about TLS is changed.
 * It stays production: true and ephemeral: false, so destroy needs --force and the typed name, and
 * keeps the data volumes (removed by the test's cleanup).
 *
 * Needs what `pulumi up` needs (the CLI, its nodejs language host, the docker 5.2.0 and command
 * 1.x plugins), OpenSSH's server and ssh-agent; skipped with the list of what is missing otherwise.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { grpcHealthCheck } from '../../components/health-gate/checks.js';
import { freePort } from '../support/free-port.js';
import { REPO_ROOT, TEST_IMAGES, testEngine } from '../support/images.js';
import { checkEngineRequirements } from '../support/pulumi-engine.js';
import { sshdMissing, startSshHost, type SshHost } from '../support/ssh-host.js';
import { sshClientMissing, startSshClient, type SshClient } from '../support/ssh-client.js';
import { TKCTL_BIN } from '../tkctl/harness.js';

const requirements = checkEngineRequirements();
const missing = [
  ...requirements.missing,
  ...[sshdMissing()].filter((reason): reason is string => reason !== undefined),
  ...[sshClientMissing()].filter((reason): reason is string => reason !== undefined),
];
const skip = missing.length > 0 ? `needs ${missing.join('; ')}` : undefined;
if (skip) console.log(`# tkctl node over SSH skipped: ${skip}`);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

describe('a maintainer node: tkctl node add, then up, status, backup, restore, rollback and destroy over ssh://', { skip, timeout: 2_400_000 }, () => {
  const stack = `node-ssh-${process.pid}`;
  const prefix = `tk-${stack}`;
  const scratch = mkdtempSync(join(tmpdir(), 'tk-node-ssh-'));
  const stackFile = join(REPO_ROOT, `Pulumi.${stack}.yaml`);
  const historyFile = join(REPO_ROOT, '.trapperkeeper/deployments', `${stack}.jsonl`);
  const timings: [string, number][] = [];
  let host: SshHost | undefined;
  let client: SshClient | undefined;
  let dockerHost: string;
  let httpPort: number;
  let grpcPort: number;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PULUMI_BACKEND_URL: `file://${join(scratch, 'backend')}`,
    PULUMI_CONFIG_PASSPHRASE: 'tkctl-node-ssh',
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    TK_DEPLOY_EVENTS_FILE: join(scratch, 'events.jsonl'),
  };
  // The node is reached through its docker.host alone: a DOCKER_HOST the maintainer exported for
  // another engine (here one that does not exist) must change nothing, for up as for tkctl status.
  env.DOCKER_HOST = 'unix:///nonexistent/tk-not-the-node.sock';

  const tkctl = (args: string[], input?: string) =>
    new Promise<Run>((resolve, reject) => {
      const started = performance.now();
      const child = spawn(process.execPath, [TKCTL_BIN, ...args], { cwd: REPO_ROOT, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      if (input !== undefined) child.stdin!.end(input);
      child.on('error', reject);
      child.on('close', (code) => {
        const seconds = (performance.now() - started) / 1000;
        timings.push([args.slice(0, ['node', 'snapshots', 'apikey'].includes(args[0]!) ? 2 : 1).join(' '), seconds]);
        resolve({ code: code ?? -1, stdout, stderr, seconds });
      });
    });
  const json = async <T>(...args: string[]): Promise<T> => {
    const run = await tkctl(args);
    assert.equal(run.code, 0, `tkctl ${args.join(' ')} exited ${run.code}:\n${run.stderr.slice(-4000)}`);
    return JSON.parse(run.stdout) as T;
  };
  const pulumi = (...args: string[]) => {
    const result = spawnSync(requirements.cli!, [...args, '--stack', stack], { cwd: REPO_ROOT, env, encoding: 'utf8' });
    assert.equal(result.status, 0, `pulumi ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const outputs = () => JSON.parse(pulumi('stack', 'output', '--json')) as { liveVersion: string; previousVersion: string | null; publicHttpUrl: string; publicGrpcAddress: string };
  const readyzRelease = async () => ((await (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).json()) as { release?: string }).release;

  before(async () => {
    mkdirSync(join(scratch, 'backend'));
    host = await startSshHost();

    // The maintainer's SSH setup: the key in an agent, the host key in known_hosts.
    client = await startSshClient(host, scratch, `${dirname(requirements.cli!)}:${process.env.PATH}`);
    Object.assign(env, client.env);
    dockerHost = client.url;
    // What a maintainer checks first: the docker CLI reaches the node's engine over ssh://.
    const version = spawnSync('docker', ['-H', dockerHost, 'version', '--format', '{{.Server.Version}}'], { env, encoding: 'utf8' });
    assert.equal(version.status, 0, `docker -H ${dockerHost} version: ${version.stderr}`);
    [httpPort, grpcPort] = [await freePort(), await freePort()];
  });

  after(async () => {
    const quiet = { cwd: REPO_ROOT, env, stdio: 'ignore' } as const;
    if (requirements.cli && existsSync(stackFile)) {
      spawnSync(requirements.cli, ['destroy', '--yes', '--stack', stack], quiet);
      spawnSync(requirements.cli, ['stack', 'rm', '--yes', '--force', '--stack', stack], quiet);
    }
    rmSync(stackFile, { force: true });
    rmSync(historyFile, { force: true });
    rmSync(join(REPO_ROOT, '.trapperkeeper/events', `${stack}.jsonl`), { force: true });
    rmSync(join(REPO_ROOT, '.trapperkeeper/final-snapshots', stack), { recursive: true, force: true });
    // Whatever is left on the engine: containers if a step failed, the data volumes a production destroy keeps, the images.
    const list = (args: string[]) => spawnSync('docker', args, { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    const containers = list(['ps', '-aq', '--filter', `name=${prefix}-`]);
    if (containers.length > 0) spawnSync('docker', ['rm', '-f', ...containers], { stdio: 'ignore' });
    const volumes = list(['volume', 'ls', '-q', '--filter', `name=${prefix}-`]);
    if (volumes.length > 0) spawnSync('docker', ['volume', 'rm', '-f', ...volumes], { stdio: 'ignore' });
    const networks = list(['network', 'ls', '-q', '--filter', `name=${prefix}-`]);
    if (networks.length > 0) spawnSync('docker', ['network', 'rm', ...networks], { stdio: 'ignore' });
    // By name, not id: the same build (same id) may be tagged and used by another stack on this engine.
    const built = list(['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=${prefix}/*`]);
    if (built.length > 0) spawnSync('docker', ['image', 'rm', ...built], { stdio: 'ignore' });
    client?.close();
    await host?.close();
    rmSync(scratch, { recursive: true, force: true });
    console.log(`# tkctl node over SSH, seconds per step: ${timings.map(([step, s]) => `${step}: ${s.toFixed(1)}`).join('; ')}`);
  });

  let first: string;
  let second: string;
  /** node add and the local overrides are done: nothing deploys before (the template's images are not on this machine). */
  let configured = false;
  const requireConfigured = () => assert.ok(configured, 'node add and the local overrides failed (the first test), so nothing is deployed');

  it('node add makes a production stack from Pulumi.prod.yaml with the ssh:// host, and node list shows it', async () => {
    const added = await json<{ stack: string; host: string; file: string; template: string; secrets: Record<string, unknown> }>('node', 'add', stack, '--host', dockerHost, '--json');
    assert.deepEqual([added.stack, added.host, added.file, added.template], [stack, dockerHost, `Pulumi.${stack}.yaml`, 'Pulumi.prod.yaml']);
    assert.ok(Object.keys(added.secrets).length >= 2, JSON.stringify(added.secrets));
    // LOCAL_OVERRIDES, before anything can deploy: only what a run on this machine needs (see the header).
    for (const [key, value] of Object.entries({
      'docker.bindAddress': '127.0.0.1',
      'docker.ports.http': String(httpPort),
      'docker.ports.grpc': String(grpcPort),
      'docker.images.postgres': TEST_IMAGES.postgres,
      'docker.images.caddy': TEST_IMAGES.caddy,
      'docker.images.appBuildBase': 'tk-offline/node:20-build',
      'docker.images.appRuntimeBase': 'tk-offline/node:20',
      'release.allowDirty': 'true',
    })) {
      pulumi('config', 'set', '--path', key, value);
    }
    configured = true;
    const file = readFileSync(stackFile, 'utf8');
    assert.match(file, new RegExp(`host: ${dockerHost.replace(/[.]/g, '\\.')}`));
    assert.match(file, /trapperkeeper:production: "?true"?/);
    const nodes = await json<{ stack: string; host: string | null; production: boolean }[]>('node', 'list', '--json');
    const node = nodes.find((row) => row.stack === stack);
    assert.deepEqual([node?.host, node?.production], [dockerHost, true], JSON.stringify(nodes));

  });

  it('up deploys the node through the engine over ssh://: /readyz and gRPC health answer on the published ports, status agrees', async () => {
    requireConfigured();
    const up = await json<{ result: string; release: string }>('up', '--stack', stack, '--ignore-ci', 'node over SSH e2e: the working tree is under test', '--json');
    assert.equal(up.result, 'succeeded');
    first = up.release;
    const out = outputs();
    assert.deepEqual([out.liveVersion, out.publicHttpUrl, out.publicGrpcAddress], [first, `http://127.0.0.1:${httpPort}`, `127.0.0.1:${grpcPort}`]);
    assert.equal(await readyzRelease(), first);
    const grpc = grpcHealthCheck('sensor-api gRPC health', `127.0.0.1:${grpcPort}`);
    try {
      const outcome = await grpc.run(5000);
      assert.ok(outcome.ok, outcome.detail);
    } finally {
      grpc.close();
    }

    // It went over SSH: the provider's connections (docker system dial-stdio) and the release's tunnel (a socket forwarded by the shared connection).
    const invocations = readFileSync(client!.log, 'utf8').trim().split('\n');
    assert.ok(invocations.some((args) => args.includes(`-p ${host!.port}`) && args.includes('docker system dial-stdio')), invocations.join('\n'));
    assert.ok(invocations.some((args) => args.includes(`-p ${host!.port}`) && / -M\b/.test(` ${args}`) && /ControlPersist=/.test(args)), invocations.join('\n'));
    assert.ok(invocations.some((args) => args.includes(`-p ${host!.port}`) && args.includes('-O forward') && args.includes('-L')), invocations.join('\n'));
    const state = JSON.parse(pulumi('stack', 'export')) as { deployment: { resources?: { type: string; inputs?: { host?: string } }[] } };
    const providers = (state.deployment.resources ?? []).filter((r) => r.type === 'pulumi:providers:docker');
    assert.ok(providers.length > 0 && providers.every((p) => p.inputs?.host === dockerHost), JSON.stringify(providers.map((p) => p.inputs?.host)));

    const status = await json<{ live: { releaseId: string }; health: { role: string; state: string; health: string | null }[] }>('status', '--stack', stack, '--json');
    assert.equal(status.live.releaseId, first);
    const unhealthy = status.health.filter((h) => h.role !== 'parked' && (h.state !== 'running' || (h.health !== null && h.health !== 'healthy')));
    assert.deepEqual(unhealthy, [], JSON.stringify(status.health));
  });

  it('backup takes a verified snapshot over SSH; restore brings it back (a key made after it is gone)', async () => {
    requireConfigured();
    const snapshot = await json<{ name: string; size: number; sha256: string | null; container: string }>('backup', '--stack', stack, '--json');
    assert.ok(snapshot.size > 0, `size ${snapshot.size}`);
    assert.match(snapshot.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(snapshot.container, `${prefix}-postgres`);
    const listed = await json<{ snapshots: { name: string; verified: boolean }[] }>('snapshots', 'list', '--stack', stack, '--json');
    assert.equal(listed.snapshots.find((s) => s.name === snapshot.name)?.verified, true, JSON.stringify(listed.snapshots));

    const created = await json<{ key: string }>('apikey', 'create', '--name', 'after-the-backup', '--stack', stack, '--json');
    assert.ok(created.key.length > 20);
    const names = async () => (await json<{ name: string }[]>('apikey', 'list', '--stack', stack, '--json')).map((k) => k.name);
    assert.ok((await names()).includes('after-the-backup'));
    const restored = await json<{ restored: string; safetySnapshot: string }>('restore', snapshot.name, '--stack', stack, '--confirm', stack, '--json');
    assert.equal(restored.restored, snapshot.name);
    assert.ok(!(await names()).includes('after-the-backup'), 'the key created after the snapshot is gone');
    assert.equal(await readyzRelease(), first, 'the live release serves after the restore');
  });

  it('a config-only up is a new release; rollback serves the previous one and the outputs, status and /readyz agree', async () => {
    requireConfigured();
    pulumi('config', 'set', '--path', 'app.logLevel', 'warn');
    second = (await json<{ release: string }>('up', '--stack', stack, '--ignore-ci', 'node over SSH e2e', '--json')).release;
    assert.notEqual(second, first);
    assert.equal(await readyzRelease(), second);
    const rolledBack = await json<{ to: string; release: string }>('rollback', '--stack', stack, '--json');
    assert.deepEqual([rolledBack.to, rolledBack.release], [first, first]);
    const out = outputs();
    const status = await json<{ live: { releaseId: string }; previous: { releaseId: string } }>('status', '--stack', stack, '--json');
    assert.deepEqual([status.live.releaseId, status.previous.releaseId], [first, second]);
    assert.deepEqual([out.liveVersion, out.previousVersion], [first, second]);
    assert.equal(await readyzRelease(), first);
  });

  it('destroy refuses the production node without --force, then with --force and the typed name leaves no container', async () => {
    requireConfigured();
    const refused = await tkctl(['destroy', '--stack', stack]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Refusing to destroy stack .*production/);
    const destroyed = await tkctl(['destroy', '--stack', stack, '--force', '--json'], `${stack}\n`);
    assert.equal(destroyed.code, 0, destroyed.stderr.slice(-4000));
    assert.equal((JSON.parse(destroyed.stdout) as { result: string }).result, 'succeeded');
    for (const [kind, field] of [[['ps', '-a'], '{{.Names}}'], [['network', 'ls'], '{{.Name}}']] as const) {
      const left = (await testEngine.run([...kind, '--filter', `name=${prefix}-`, '--format', field])).trim();
      assert.equal(left, '', `${kind.join(' ')}: ${left}`);
    }
    // A production stack keeps its data (ephemeral: false); the cleanup removes these volumes.
    const kept = (await testEngine.run(['volume', 'ls', '--filter', `name=${prefix}-`, '--format', '{{.Name}}'])).trim();
    assert.notEqual(kept, '', 'the data volumes survive a production destroy');
  });
});
