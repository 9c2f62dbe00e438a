/**
 * .github/scripts/ci-note.sh, which deploy.yml's ci-note job runs after the tests, against a real
 * git "origin" (a bare repository in a temporary folder): the note it pushes is what a
 * maintainer's `tkctl up` reads (tkctl/ci-status.ts) once they fetch refs/notes/ci, and two runs
 * at the same time both land.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ciStatus } from '../../tkctl/ci-status.js';

const CI_NOTE = resolve(import.meta.dirname, '../../.github/scripts/ci-note.sh');
const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@localhost', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@localhost' };

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', dir, ...args], { env: GIT_ENV, encoding: 'utf8' }).trim();
}

function ciNote(dir: string, result: string, commit: string): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', [CI_NOTE, result, commit], { cwd: dir, env: GIT_ENV });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, output }));
  });
}

describe('ci-note.sh: the CI result as a note tkctl up reads', () => {
  let scratch: string;
  let origin: string;
  const clone = (name: string) => {
    const dir = join(scratch, name);
    execFileSync('git', ['clone', '--quiet', origin, dir], { env: GIT_ENV });
    return dir;
  };
  let first: string;
  let second: string;

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'tk-ci-note-'));
    origin = join(scratch, 'origin.git');
    execFileSync('git', ['init', '--quiet', '--bare', '-b', 'main', origin]);
    const author = clone('author');
    writeFileSync(join(author, 'a.txt'), 'a\n');
    git(author, 'add', 'a.txt');
    git(author, 'commit', '--quiet', '-m', 'first');
    first = git(author, 'rev-parse', 'HEAD');
    writeFileSync(join(author, 'a.txt'), 'b\n');
    git(author, 'commit', '--quiet', '-am', 'second');
    second = git(author, 'rev-parse', 'HEAD');
    git(author, 'push', '--quiet', 'origin', 'main');
  });

  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('two CI runs at once (like two pushes close together) both record their result on origin', async () => {
    const [a, b] = await Promise.all([ciNote(clone('ci-1'), 'success', first), ciNote(clone('ci-2'), 'failure', second)]);
    assert.equal(a.code, 0, a.output);
    assert.equal(b.code, 0, b.output);
    const check = clone('check');
    git(check, 'fetch', '--quiet', 'origin', 'refs/notes/ci:refs/notes/ci');
    assert.equal(git(check, 'notes', '--ref=ci', 'show', first), 'success');
    assert.equal(git(check, 'notes', '--ref=ci', 'show', second), 'failure');
  });

  it('a maintainer who fetched the notes deploys the commit CI passed, and is refused the one it failed', () => {
    const maintainer = clone('maintainer');
    const before = ciStatus(maintainer, {});
    assert.equal(before.green, false);
    assert.match(before.detail, /no CI status recorded[\s\S]*git fetch origin refs\/notes\/ci:refs\/notes\/ci/);
    git(maintainer, 'fetch', '--quiet', 'origin', 'refs/notes/ci:refs/notes/ci');
    assert.deepEqual(ciStatus(maintainer, {}), { commit: second, green: false, detail: 'failure (git note refs/notes/ci)' });
    git(maintainer, 'checkout', '--quiet', first);
    assert.deepEqual(ciStatus(maintainer, {}), { commit: first, green: true, detail: 'success (git note refs/notes/ci)' });
  });

  it('a later run for the same commit replaces its result (a re-run after a flaky failure)', async () => {
    const rerun = await ciNote(clone('ci-3'), 'success', second);
    assert.equal(rerun.code, 0, rerun.output);
    const maintainer = clone('maintainer-2');
    git(maintainer, 'fetch', '--quiet', 'origin', 'refs/notes/ci:refs/notes/ci');
    assert.equal(ciStatus(maintainer, {}).green, true);
    assert.equal(git(maintainer, 'notes', '--ref=ci', 'show', first), 'success', 'the other commit\'s note is kept');
  });

  it('refuses a result that is not a word and a commit the checkout does not have, before touching origin', async () => {
    const dir = clone('ci-bad');
    assert.equal((await ciNote(dir, 'success; rm -rf /', first)).code, 2);
    const missing = await ciNote(dir, 'success', '0'.repeat(40));
    assert.equal(missing.code, 1);
    assert.match(missing.output, /is not a commit of this checkout/);
  });
});
