/**
 * tkctl over the whole lifecycle through the Pulumi engine, on this repository's Pulumi.yaml and
 * index.ts against the local Docker engine: init -> preview -> up -> status -> a config change
 * up -> rollback -> up --ref HEAD -> destroy, each as an operator types it (the tkctl bin, in the project folder).
 * Needs what `pulumi up` needs (the CLI, its nodejs language host, the docker 5.2.0 and command
 * 1.x plugins); skipped with the list of what is missing otherwise, like pulumi-up.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../support/free-port.js';
import { REPO_ROOT, TEST_IMAGES, testEngine } from '../support/images.js';
import { checkEngineRequirements } from '../support/pulumi-engine.js';
import { TKCTL_BIN } from '../tkctl/harness.js';

const requirements = checkEngineRequirements();
const skip = requirements.missing.length > 0 ? `needs ${requirements.missing.join('; ')}` : undefined;
if (skip) console.log(`# tkctl engine lifecycle skipped: ${skip}`);

describe('tkctl init, preview, up, status, rollback and destroy through the engine', { skip, timeout: 1_800_000 }, () => {
  const stack = `tkctl-e2e-${process.pid}`;
  const prefix = `tk-${stack}`;
  const scratch = mkdtempSync(join(tmpdir(), 'tk-tkctl-engine-'));
  const historyFile = join(REPO_ROOT, '.trapperkeeper/deployments', `${stack}.jsonl`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${dirname(requirements.cli ?? '/')}:${process.env.PATH}`,
    PULUMI_BACKEND_URL: `file://${scratch}`,
    PULUMI_CONFIG_PASSPHRASE: 'tkctl-engine-e2e',
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    TK_DEPLOY_EVENTS_FILE: join(scratch, 'events.jsonl'),
  };
  const tkctl = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [TKCTL_BIN, ...args, '--stack', stack], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  const json = async <T>(...args: string[]): Promise<T> => {
    const run = await tkctl(...args);
    assert.equal(run.code, 0, `tkctl ${args.join(' ')} exited ${run.code}:\n${run.stderr.slice(-3000)}`);
    return JSON.parse(run.stdout) as T;
  };
  const pulumi = (...args: string[]) => {
    const result = spawnSync(requirements.cli!, [...args, '--stack', stack], { cwd: REPO_ROOT, env, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
  };

  before(async () => {
    const init = await json<{ created: boolean }>('init', '--json');
    assert.equal(init.created, true);
    const [http, grpc] = [await freePort(), await freePort()];
    pulumi('config', 'set', 'provider', 'docker');
    pulumi('config', 'set', 'ephemeral', 'true');
    for (const [key, value] of Object.entries({
      'docker.bindAddress': '127.0.0.1',
      'docker.ports.http': String(http),
      'docker.ports.grpc': String(grpc),
      'docker.images.postgres': TEST_IMAGES.postgres,
      'docker.images.caddy': TEST_IMAGES.caddy,
      'docker.images.appBuildBase': 'tk-offline/node:20-build',
      'docker.images.appRuntimeBase': 'tk-offline/node:20',
      'release.allowDirty': 'true',
    })) {
      pulumi('config', 'set', '--path', key, value);
    }
  });

  after(async () => {
    spawnSync(requirements.cli!, ['destroy', '--yes', '--stack', stack], { cwd: REPO_ROOT, env, stdio: 'ignore' });
    spawnSync(requirements.cli!, ['stack', 'rm', '--yes', '--force', '--stack', stack], { cwd: REPO_ROOT, env, stdio: 'ignore' });
    rmSync(join(REPO_ROOT, `Pulumi.${stack}.yaml`), { force: true });
    rmSync(historyFile, { force: true });
    // destroy of an ephemeral stack copies its final snapshot out, relative to the project folder
    rmSync(join(REPO_ROOT, '.trapperkeeper/final-snapshots', stack), { recursive: true, force: true });
    // By name, not id: the same build (same id) may be tagged and used by another stack on this engine.
    const built = spawnSync('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=${prefix}/*`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    if (built.length > 0) spawnSync('docker', ['image', 'rm', ...built], { stdio: 'ignore' });
    rmSync(scratch, { recursive: true, force: true });
  });

  let first: string;
  let second: string;

  it('previews the stack, then up deploys it past the CI gate with a recorded reason, and status shows it live', async () => {
    const preview = await json<{ changeSummary: Record<string, number> }>('preview', '--json');
    assert.ok((preview.changeSummary.create ?? 0) >= 10, JSON.stringify(preview.changeSummary));
    const up = await json<{ result: string; release: string }>('up', '--ignore-ci', 'engine e2e: the working tree is under test', '--json');
    assert.equal(up.result, 'succeeded');
    assert.match(up.release, /^0\.\d+\.\d+-[0-9a-f]{8}-/);
    first = up.release;
    const status = await json<{ live: { releaseId: string } }>('status', '--json');
    assert.equal(status.live.releaseId, first);
  });

  it('a config change is a new release; rollback --to the first serves it again and the outputs and status agree', async () => {
    pulumi('config', 'set', '--path', 'app.logLevel', 'warn');
    second = (await json<{ release: string }>('up', '--ignore-ci', 'engine e2e', '--json')).release;
    assert.notEqual(second, first);
    const rolledBack = await json<{ to: string; release: string; switchedMs: number | null; durationMs: number }>('rollback', '--to', first, '--json');
    assert.equal(rolledBack.to, first);
    assert.equal(rolledBack.release, first);
    // Traffic moved first, with the release command the last up ran; the up that recorded it
    // found that release live and changed nothing but the outputs.
    assert.equal(typeof rolledBack.switchedMs, 'number', 'the rollback moved traffic before its pulumi up');
    const rollbacks = readFileSync(join(scratch, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; kind?: string; release?: string; unchanged?: boolean })
      .filter((e) => e.event === 'release.succeeded' && e.kind === 'rollback');
    assert.deepEqual(rollbacks.map((e) => [e.release, e.unchanged ?? false]), [[first, false], [first, true]]);
    const status = await json<{ live: { releaseId: string }; previous: { releaseId: string } }>('status', '--json');
    assert.equal(status.live.releaseId, first);
    assert.equal(status.previous.releaseId, second);

    const history = readFileSync(historyFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { command: string; result: string; release: string; ciOverride?: string; durationMs: number });
    assert.deepEqual(history.map((h) => [h.command, h.result, h.release]), [['up', 'succeeded', first], ['up', 'succeeded', second], ['rollback', 'succeeded', first]]);
    assert.equal(history[0]!.ciOverride, 'engine e2e: the working tree is under test');
    assert.ok(history.every((h) => h.durationMs > 0));
  });

  it('up --ref deploys a commit from a temporary worktree: that commit\'s release goes live, the history names the ref, the worktree is gone', async () => {
    const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout.trim();
    assert.equal((await tkctl('rollback', '--clear')).code, 0, 'the pin from the rollback above is removed first');
    const run = await tkctl('up', '--ref', 'HEAD', '--ignore-ci', 'engine e2e: up --ref', '--json');
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    const up = JSON.parse(run.stdout) as { ref: string; commit: string; result: string; release: string };
    assert.deepEqual([up.ref, up.commit, up.result], ['HEAD', head, 'succeeded']);
    assert.match(up.release, new RegExp(`^0\\.\\d+\\.\\d+-${head.slice(0, 8)}-`), 'a release of the ref\'s commit, never a dirty one');
    const worktree = /checked out HEAD \(\w+\) in (\S+)/.exec(run.stderr)?.[1];
    assert.ok(worktree && !existsSync(worktree), `the worktree ${worktree} is gone`);
    const status = await json<{ live: { releaseId: string } }>('status', '--json');
    assert.equal(status.live.releaseId, up.release);
    const last = JSON.parse(readFileSync(historyFile, 'utf8').trim().split('\n').at(-1)!) as { ref?: string; commit: string; release: string };
    assert.deepEqual([last.ref, last.commit, last.release], ['HEAD', head, up.release]);
    const events = readFileSync(join(scratch, 'events.jsonl'), 'utf8');
    assert.ok(events.includes(up.release), 'the release\'s events went to this folder\'s log, not the removed worktree');
  });

  it('destroy tears the stack down without asking (not production) and leaves nothing of it', async () => {
    const destroyed = await json<{ result: string }>('destroy', '--json');
    assert.equal(destroyed.result, 'succeeded');
    for (const [kind, field] of [[['ps', '-a'], '{{.Names}}'], [['volume', 'ls'], '{{.Name}}'], [['network', 'ls'], '{{.Name}}']] as const) {
      const left = (await testEngine.run([...kind, '--filter', `name=${prefix}`, '--format', field])).trim();
      assert.equal(left, '', `${kind.join(' ')}: ${left}`);
    }
  });
});
