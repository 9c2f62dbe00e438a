/**
 * The whole stack lifecycle through the Pulumi engine, on this repository's own Pulumi.yaml and
 * index.ts (Automation API, LocalWorkspace with the repository as its folder), against the local
 * Docker engine, under load through the public endpoints the whole time:
 *   preview -> up -> preview shows no change -> a config change releases -> a broken image fails
 *   `up` while the live slot keeps serving -> a good `up` recovers -> rollback through the
 *   release.rollbackTo pin, with the outputs agreeing with the release CLI's status -> destroy
 *   leaves nothing of the stack.
 *
 * It needs what `pulumi up` needs: the Pulumi CLI, its nodejs language host and the docker 5.2.0
 * and command 1.x provider plugins (`pulumi plugin install resource docker 5.2.0`, `pulumi plugin
 * install resource command 1.2.1` on a machine with internet). Where any is missing it is skipped
 * with the list of what is missing.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalWorkspace, PulumiCommand, type Stack } from '@pulumi/pulumi/automation/index.js';
import { freePort } from '../support/free-port.js';
import { startLoad, type RunningLoad } from '../support/load.js';
import { REPO_ROOT, TEST_IMAGES, testEngine } from '../support/images.js';

interface Requirements {
  cli?: string;
  missing: string[];
}

function checkRequirements(): Requirements {
  const found = spawnSync('bash', [join(REPO_ROOT, 'scripts/pulumi-cli.sh'), '--no-build'], { encoding: 'utf8' });
  const cli = found.status === 0 ? found.stdout.trim() : undefined;
  if (!cli) return { missing: ['the Pulumi CLI (install it, or `bash scripts/pulumi-cli.sh`)'] };
  const missing: string[] = [];
  const path = `${dirname(cli)}:${process.env.PATH}`;
  if (spawnSync('bash', ['-c', 'command -v pulumi-language-nodejs'], { env: { ...process.env, PATH: path } }).status !== 0) {
    missing.push('the nodejs language host (pulumi-language-nodejs, shipped with the official CLI)');
  }
  const listed = spawnSync(cli, ['plugin', 'ls', '--json'], { encoding: 'utf8', env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: 'true' } });
  const plugins = listed.status === 0 ? (JSON.parse(listed.stdout || '[]') as { name: string; kind: string; version: string }[]) : [];
  const has = (name: string, version: RegExp) => plugins.some((plugin) => plugin.kind === 'resource' && plugin.name === name && version.test(plugin.version));
  if (!has('docker', /^5\.2\.0$/)) missing.push('the docker 5.2.0 provider plugin (pulumi plugin install resource docker 5.2.0)');
  if (!has('command', /^1\./)) missing.push('the command 1.x provider plugin (pulumi plugin install resource command 1.2.1)');
  if (spawnSync('docker', ['info'], { stdio: 'ignore' }).status !== 0) missing.push('a Docker engine (bash scripts/offline-images.sh)');
  return { cli, missing };
}

const requirements = checkRequirements();
const skip = requirements.missing.length > 0 ? `needs ${requirements.missing.join('; ')}` : undefined;
if (skip) console.log(`# engine end-to-end skipped: ${skip}`);

describe('pulumi preview / up / rollback / destroy through the engine, under load', { skip, timeout: 1_800_000 }, () => {
  const stackName = `engine-e2e-${process.pid}`;
  const prefix = `tk-${stackName}`;
  const scratch = mkdtempSync(join(tmpdir(), 'tk-engine-'));
  const brokenRuntime = `${prefix}-broken-runtime:1`;
  let stack: Stack;
  let load: RunningLoad | undefined;
  const outputs = async () => Object.fromEntries(Object.entries(await stack.outputs()).map(([key, output]) => [key, output.value as unknown]));
  const quietly = { onOutput: () => undefined };

  const setPath = (key: string, value: string, secret = false) => stack.setConfig(key, { value, secret }, true);

  before(async () => {
    const pulumiCommand = await PulumiCommand.get({ root: dirname(dirname(requirements.cli!)), skipVersionCheck: true });
    stack = await LocalWorkspace.createOrSelectStack(
      { stackName, workDir: REPO_ROOT },
      {
        pulumiCommand,
        envVars: {
          PULUMI_BACKEND_URL: `file://${scratch}`,
          PULUMI_CONFIG_PASSPHRASE: 'engine-e2e',
          PULUMI_SKIP_UPDATE_CHECK: 'true',
          TK_DEPLOY_EVENTS_FILE: join(scratch, 'events.jsonl'),
        },
      },
    );
    const [http, grpc] = [await freePort(), await freePort()];
    await stack.setAllConfig({
      provider: { value: 'docker' },
      ephemeral: { value: 'true' },
      postgresPassword: { value: `pw-${process.pid}-${Date.now()}`, secret: true },
      hmacSecret: { value: `${'a1'.repeat(16)}:${Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256)).toString('base64')}`, secret: true },
    });
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
      await setPath(key, value);
    }
    const dockerfile = join(scratch, 'Dockerfile');
    writeFileSync(dockerfile, 'FROM tk-offline/node:20\nRUN printf \'#!/bin/sh\\necho "broken runtime" >&2\\nexit 3\\n\' > "$(command -v node)"\n');
    execFileSync('docker', ['build', '-q', '-t', brokenRuntime, '-f', dockerfile, scratch]);
  });

  after(async () => {
    await load?.stop();
    if (stack) {
      await stack.destroy(quietly).catch(() => undefined);
      await stack.workspace.removeStack(stackName).catch(() => undefined);
    }
    rmSync(join(REPO_ROOT, `Pulumi.${stackName}.yaml`), { force: true });
    // destroy keeps the images the stack built (as on a real host); a test removes its own.
    const built = spawnSync('docker', ['images', '--quiet', '--filter', `reference=${prefix}/*`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    spawnSync('docker', ['image', 'rm', '-f', brokenRuntime, ...new Set(built)], { stdio: 'ignore' });
    rmSync(scratch, { recursive: true, force: true });
  });

  it('previews the whole stack, then deploys it and serves the release', async () => {
    const preview = await stack.preview(quietly);
    assert.ok((preview.changeSummary.create ?? 0) >= 10, JSON.stringify(preview.changeSummary));
    const up = await stack.up(quietly);
    assert.equal(up.summary.result, 'succeeded');
    const out = await outputs();
    assert.match(String(out.liveVersion), /^0\.\d+\.\d+-[0-9a-f]{8}-/);
    const readyz = (await (await fetch(`${String(out.publicHttpUrl)}/readyz`)).json()) as { release?: string };
    assert.equal(readyz.release, out.liveVersion);

    const apiKey = execFileSync('docker', ['exec', `${prefix}-${String(out.liveSlot)}-web-ui`, 'node', '/opt/trapperkeeper/app/bin/trapperkeeper.js', 'api-keys', 'create', '--name', 'load'], { encoding: 'utf8' }).trim();
    load = startLoad({ httpUrl: String(out.publicHttpUrl), grpcAddress: String(out.publicGrpcAddress), apiKey }, { ratePerSecond: 120, maxSeconds: 1500 });
  });

  it('previews no change on an unchanged stack', async () => {
    const preview = await stack.preview(quietly);
    const changed = Object.entries(preview.changeSummary).filter(([kind, count]) => kind !== 'same' && (count ?? 0) > 0);
    assert.deepEqual(changed, []);
  });

  it('releases a config change to the other slot', async () => {
    const before = await outputs();
    await setPath('app.logLevel', 'warn');
    await stack.up(quietly);
    const after = await outputs();
    assert.notEqual(after.liveVersion, before.liveVersion);
    assert.notEqual(after.liveSlot, before.liveSlot);
    assert.equal(after.previousVersion, before.liveVersion);
  });

  it('fails `up` on a broken image while the live slot keeps serving, and the next good `up` recovers', async () => {
    const live = await outputs();
    await setPath('docker.images.appRuntimeBase', brokenRuntime);
    await assert.rejects(stack.up(quietly), /release|gate|start/i);
    const readyz = (await (await fetch(`${String(live.publicHttpUrl)}/readyz`)).json()) as { release?: string };
    assert.equal(readyz.release, live.liveVersion, 'the live release still serves');

    await setPath('docker.images.appRuntimeBase', 'tk-offline/node:20');
    await stack.up(quietly);
    const recovered = await outputs();
    const served = (await (await fetch(`${String(recovered.publicHttpUrl)}/readyz`)).json()) as { release?: string };
    assert.equal(served.release, recovered.liveVersion);
  });

  it('rolls back through the pin, and the outputs agree with the release CLI\'s status', async () => {
    const before = await outputs();
    await setPath('release.rollbackTo', String(before.previousVersion));
    await stack.up(quietly);
    const after = await outputs();
    assert.equal(after.liveVersion, before.previousVersion);
    assert.equal(after.previousVersion, before.liveVersion);
    const status = JSON.parse(
      execFileSync(process.execPath, ['--import', 'tsx', 'providers/release-cli.ts', 'status', '--stack', stackName], { cwd: REPO_ROOT, encoding: 'utf8' }),
    ) as { live: { slot: string; releaseId: string } | null; slots: Record<string, string | null> };
    assert.equal(status.live?.slot, after.liveSlot);
    assert.equal(status.slots[String(after.liveSlot)], after.liveVersion);

    await stack.removeConfig('release.rollbackTo', true);
    await stack.up(quietly);
    assert.equal((await outputs()).liveVersion, before.liveVersion, 'without the pin, this commit is released again');
  });

  it('served every request of the run, and destroy leaves nothing of the stack', async () => {
    const report = await load!.stop();
    load = undefined;
    assert.equal(report.http.failed + report.grpc.failed, 0, [...report.http.errors, ...report.grpc.errors].join('\n'));

    await stack.destroy(quietly);
    for (const [kind, field] of [[['ps', '-a'], '{{.Names}}'], [['volume', 'ls'], '{{.Name}}'], [['network', 'ls'], '{{.Name}}']] as const) {
      const left = (await testEngine.run([...kind, '--filter', `name=${prefix}`, '--format', field])).trim();
      assert.equal(left, '', `${kind.join(' ')}: ${left}`);
    }
  });
});
