import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The packages a process of `node --import tsx <script> <args>` resolves while it runs. */
function packagesLoadedBy(script: string, args: string[]): string[] {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/support/trace-packages.mjs', script, ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
  return [...new Set(result.stderr.split('\n').filter((line) => line.startsWith('tk-resolve ')).map((line) => line.slice('tk-resolve '.length)))];
}

describe('the release process (providers/release-cli.ts)', () => {
  it('starts without loading a Pulumi SDK: pulumi up starts it for every release and rollback, and the SDKs take seconds to load', () => {
    const loaded = packagesLoadedBy('providers/release-cli.ts', ['--help']);
    assert.ok(loaded.includes('zod'), `the trace saw the CLI's own packages: ${loaded.join(', ')}`);
    assert.deepEqual(loaded.filter((name) => name.startsWith('@pulumi/')), []);
  });

  it('the trace sees a Pulumi SDK where one is loaded (the program)', () => {
    const loaded = packagesLoadedBy('index.ts', []);
    assert.ok(loaded.some((name) => name.startsWith('@pulumi/')), loaded.join(', '));
  });
});
