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
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Stack } from '@pulumi/pulumi/automation/index.js';
import { startLoad, type RunningLoad } from '../support/load.js';
import { REPO_ROOT, testEngine } from '../support/images.js';
import { checkEngineRequirements, createEngineStack, engineOutputs, liveApiKey, removeEngineStack } from '../support/pulumi-engine.js';

const requirements = checkEngineRequirements();
const skip = requirements.missing.length > 0 ? `needs ${requirements.missing.join('; ')}` : undefined;
if (skip) console.log(`# engine end-to-end skipped: ${skip}`);

describe('pulumi preview / up / rollback / destroy through the engine, under load', { skip, timeout: 1_800_000 }, () => {
  const stackName = `engine-e2e-${process.pid}`;
  const prefix = `tk-${stackName}`;
  const scratch = mkdtempSync(join(tmpdir(), 'tk-engine-'));
  const brokenRuntime = `${prefix}-broken-runtime:1`;
  let stack: Stack;
  let load: RunningLoad | undefined;
  const outputs = () => engineOutputs(stack);
  const quietly = { onOutput: () => undefined };

  const setPath = (key: string, value: string, secret = false) => stack.setConfig(key, { value, secret }, true);

  before(async () => {
    stack = await createEngineStack({ cli: requirements.cli!, stackName, scratch });
    const dockerfile = join(scratch, 'Dockerfile');
    writeFileSync(dockerfile, 'FROM tk-offline/node:20\nRUN printf \'#!/bin/sh\\necho "broken runtime" >&2\\nexit 3\\n\' > "$(command -v node)"\n');
    execFileSync('docker', ['build', '-q', '-t', brokenRuntime, '-f', dockerfile, scratch]);
  });

  after(async () => {
    await load?.stop();
    if (stack) await removeEngineStack(stack);
    spawnSync('docker', ['image', 'rm', '-f', brokenRuntime], { stdio: 'ignore' });
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

    const apiKey = liveApiKey(stackName, String(out.liveSlot));
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
      execFileSync(process.execPath, ['launcher/release-cli.mjs', 'status', '--stack', stackName], { cwd: REPO_ROOT, encoding: 'utf8' }),
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
