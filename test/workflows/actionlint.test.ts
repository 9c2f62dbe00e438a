/**
 * The workflows in .github/workflows pass actionlint (scripts/actionlint.sh builds it from the Go
 * module proxy; .ci/run does) and the CI scripts pass shellcheck; a broken workflow does not pass,
 * so a green run means something. With shellcheck on PATH, actionlint also checks every `run:`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';

const REPO = resolve(import.meta.dirname, '../..');

function tool(found: { status: number | null; stdout: string }): string | undefined {
  return found.status === 0 ? found.stdout.trim() || undefined : undefined;
}

const actionlint = tool(spawnSync('bash', [join(REPO, 'scripts/actionlint.sh'), '--no-build'], { encoding: 'utf8' }));
const shellcheck = tool(spawnSync('bash', ['-c', 'command -v shellcheck'], { encoding: 'utf8' }));
const missing = actionlint === undefined ? 'no actionlint: run `bash scripts/actionlint.sh` to build it from the Go module proxy' : undefined;
if (missing && process.env.CI) throw new Error(`CI must lint the workflows, but ${missing}`);
if (!shellcheck && process.env.CI) throw new Error('CI must shellcheck the workflow scripts, but there is no shellcheck (.ci/run installs it)');

function lint(cwd: string, ...files: string[]) {
  return spawnSync(actionlint!, ['-no-color', '-oneline', ...files], { cwd, encoding: 'utf8' });
}

describe('actionlint', { skip: missing }, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'tk-actionlint-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('passes every workflow in .github/workflows (and their run: scripts through shellcheck when present)', () => {
    const workflows = readdirSync(join(REPO, '.github/workflows')).filter((file) => /\.ya?ml$/.test(file));
    assert.deepEqual(workflows.sort(), ['deploy.yml', 'pr-stack.yml', 'pr.yml', 'test.yml']);
    const result = lint(REPO);
    assert.equal(result.status, 0, `actionlint found problems:\n${result.stdout}${result.stderr}`);
  });

  it('fails a broken workflow, naming the file, line and problem', () => {
    const workflows = join(scratch, '.github', 'workflows');
    mkdirSync(workflows, { recursive: true });
    writeFileSync(
      join(workflows, 'broken.yml'),
      [
        'on: pull_request',
        'jobs:',
        '  build:',
        '    runs-on: ubuntu-latest',
        '    needs: tests',
        '    steps:',
        "      - run: echo ok",
        '        env:',
        '          TOKEN: ${{ secret.TOKEN }}',
        '      - uses: actions/checkout@v4',
        '        with:',
        '          fetch-deep: 0',
        '',
      ].join('\n'),
    );
    // Named explicitly: actionlint only looks for .github/workflows by itself inside a git repository.
    const result = lint(scratch, '.github/workflows/broken.yml');
    assert.notEqual(result.status, 0, 'actionlint accepted a broken workflow');
    assert.match(result.stdout, /broken\.yml:3:\d+: job "build" needs job "tests" which does not exist/);
    assert.match(result.stdout, /broken\.yml:9:\d+: undefined variable "secret"/);
    assert.match(result.stdout, /broken\.yml:12:\d+: input "fetch-deep" is not defined in action "actions\/checkout@v4"/);
  });
});

describe('shellcheck of the CI scripts', { skip: shellcheck ? undefined : 'no shellcheck on PATH (.ci/run installs it)' }, () => {
  it('passes .github/scripts/*.sh and scripts/actionlint.sh', () => {
    const scripts = readdirSync(join(REPO, '.github/scripts')).filter((file) => file.endsWith('.sh')).map((file) => join('.github/scripts', file));
    const result = spawnSync(shellcheck!, [...scripts, 'scripts/actionlint.sh'], { cwd: REPO, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });
});
