/**
 * The guards of tkctl's engine commands, through the real Pulumi CLI (file:// backend): they
 * refuse before the engine runs, so none needs provider plugins. destroy's production guard and
 * typed confirmation (also in a real terminal, through tmux), up's CI gate and its override,
 * up --ref's gate on the ref's commit and its temporary worktree, rollback's pin and its removal.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../support/images.js';
import { createTkctlProject, findPulumiCli, NO_PULUMI_CLI, TKCTL_BIN, type TkctlProject } from './harness.js';

const cli = findPulumiCli();
if (!cli && process.env.CI) throw new Error(`CI must run the tkctl CLI tests, but ${NO_PULUMI_CLI}`);
const hasTmux = spawnSync('bash', ['-c', 'command -v tmux'], { stdio: 'ignore' }).status === 0;
/** With the nodejs language host the engine runs a program, so `up --ref` shows which one ran. */
const hasLanguageHost = cli !== undefined && spawnSync('bash', ['-c', 'command -v pulumi-language-nodejs'], { env: { ...process.env, PATH: `${dirname(cli)}:${process.env.PATH}` } }).status === 0;

describe('tkctl destroy, up and rollback guards through the real Pulumi CLI', { skip: cli ? undefined : NO_PULUMI_CLI, timeout: 600_000 }, () => {
  let project: TkctlProject;
  const stackExists = (name: string) => (JSON.parse(project.pulumi(['stack', 'ls', '--json']).stdout) as { name: string }[]).some((s) => s.name === name);
  const git = (...args: string[]) => {
    const result = spawnSync('git', ['-C', project.dir, ...args], { encoding: 'utf8', env: { ...project.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.trim();
  };

  before(async () => {
    project = createTkctlProject(cli!, ['Pulumi.prod.yaml', 'Pulumi.dev.yaml']);
    for (const stack of ['prod', 'dev']) assert.equal((await project.tkctl(['init', '--stack', stack])).code, 0);
    // `pr-7`: not production by name or config, nothing deployed.
    assert.equal(project.pulumi(['stack', 'init', 'pr-7']).code, 0);
    git('init', '-q');
    writeFileSync(join(project.dir, '.gitignore'), '.trapperkeeper/\nnode_modules\n');
    // A project with this repository's dependencies installed, so `up --ref` can use them.
    for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(REPO_ROOT, file), join(project.dir, file));
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(project.dir, 'node_modules'), 'dir');
    git('add', '-A');
    git('commit', '-qm', 'stack files');
  });
  after(() => project?.remove());

  it('refuses to destroy a production stack without --force, and with --force but a wrong name', async () => {
    const refused = await project.tkctl(['destroy', '--stack', 'prod']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Refusing to destroy stack prod: it is a production stack \(its config sets production: true \(Pulumi\.prod\.yaml\)\)\n {2}fix: tkctl destroy --stack prod --force/);
    const wrongName = await project.tkctl(['destroy', '--stack', 'prod', '--force'], { input: 'dev\n' });
    assert.equal(wrongName.code, 1);
    assert.match(wrongName.stderr, /Type the stack name \(prod\) to continue/);
    assert.match(wrongName.stderr, /Not confirmed \(expected "prod", got "dev"\); nothing was changed/);
    assert.ok(stackExists('prod'));
    assert.ok(!existsSync(join(project.dir, '.trapperkeeper/deployments/prod.jsonl')), 'nothing ran, nothing recorded');
  });

  it('treats a stack named prod-* as production even without the config key', async () => {
    assert.equal(project.pulumi(['stack', 'init', 'prod-eu']).code, 0);
    const refused = await project.tkctl(['destroy', '--stack', 'prod-eu']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /its name is prod-eu/);
  });

  it('destroys a production stack after --force and the typed name in a real terminal, streaming progress', { skip: hasTmux ? undefined : 'needs tmux' }, async () => {
    const session = `tkctl-test-${process.pid}`;
    const tmux = (...args: string[]) => spawnSync('tmux', args, { encoding: 'utf8', env: project.env });
    const envLine = Object.entries(project.env).map(([key, value]) => `${key}=${JSON.stringify(value)}`).join(' ');
    const started = tmux('new-session', '-d', '-s', session, '-x', '200', '-y', '50', '-c', project.dir, `env ${envLine} ${process.execPath} ${TKCTL_BIN} destroy --stack prod --force; echo "exit=$?"; sleep 60`);
    assert.equal(started.status, 0, started.stderr);
    const pane = () => tmux('capture-pane', '-p', '-t', session, '-S', '-200').stdout;
    const waitFor = async (pattern: RegExp) => {
      for (let i = 0; i < 240 && !pattern.test(pane()); i++) await sleep(250);
      assert.match(pane(), pattern);
    };
    try {
      await waitFor(/Type the stack name \(prod\) to continue:/);
      tmux('send-keys', '-t', session, 'prod', 'Enter');
      await waitFor(/exit=\d+/);
      const screen = pane();
      assert.match(screen, /pulumi destroy --stack prod/);
      assert.match(screen, /Destroying \(prod\)/, 'the engine\'s own progress is streamed to the terminal');
      assert.match(screen, /tkctl destroy prod: succeeded in [\d.]+ s/);
      assert.match(screen, /exit=0/);
    } finally {
      tmux('kill-session', '-t', session);
    }
    const history = readFileSync(join(project.dir, '.trapperkeeper/deployments/prod.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(history.length, 1);
    assert.equal(history[0]!.command, 'destroy');
    assert.equal(history[0]!.result, 'succeeded');
    assert.match(String(history[0]!.by), /@/);
    assert.equal(history[0]!.commit, git('rev-parse', 'HEAD'));
  });

  it('says there is nothing to destroy for a stack that does not exist, instead of offering to create it', async () => {
    const missing = await project.tkctl(['destroy', '--stack', 'pr-404']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Stack pr-404 does not exist in this backend\n {2}fix: nothing to destroy; pulumi stack ls lists/);
    assert.doesNotMatch(missing.stderr, /tkctl init/);
    assert.ok(!stackExists('pr-404'));
  });

  it('destroys a stack that is not production without asking', async () => {
    const run = await project.tkctl(['destroy', '--stack', 'pr-7', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { result: string }).result, 'succeeded');
    assert.doesNotMatch(run.stderr, /Type the stack name/);
    assert.ok(stackExists('pr-7'), 'without --remove the stack itself stays');
  });

  it('destroy --remove then removes the stack and its stack file, as a finished PR stack needs', async () => {
    assert.equal(project.pulumi(['stack', 'init', 'pr-8']).code, 0);
    project.pulumi(['config', 'set', 'app.logLevel', 'debug', '--stack', 'pr-8']);
    assert.ok(existsSync(join(project.dir, 'Pulumi.pr-8.yaml')));
    const run = await project.tkctl(['destroy', '--stack', 'pr-8', '--remove', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout) as unknown, { stack: 'pr-8', result: 'succeeded', durationMs: (JSON.parse(run.stdout) as { durationMs: number }).durationMs, removed: true });
    assert.match(run.stderr, /pulumi stack rm pr-8/);
    assert.ok(!stackExists('pr-8'), 'the stack is gone from the backend');
    assert.ok(!existsSync(join(project.dir, 'Pulumi.pr-8.yaml')), 'and its stack file with it');
  });

  it('up refuses a commit without a green CI status, says how to override, and requires a reason', async () => {
    const none = await project.tkctl(['up', '--stack', 'dev']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /CI is not green for the commit to deploy: no CI status recorded for [0-9a-f]{12}/);
    assert.match(none.stderr, /fix: .*tkctl up --ignore-ci "<reason>"/);

    git('notes', '--ref=ci', 'add', '-f', '-m', 'failure', 'HEAD');
    const failed = await project.tkctl(['up', '--stack', 'dev']);
    assert.match(failed.stderr, /CI is not green for the commit to deploy: failure \(git note refs\/notes\/ci\)/);

    const fromEnv = await project.tkctl(['up', '--stack', 'dev'], { env: { TK_CI_STATUS: 'pending' } });
    assert.match(fromEnv.stderr, /CI is not green for the commit to deploy: pending \(TK_CI_STATUS\)/);

    const noReason = await project.tkctl(['up', '--stack', 'dev', '--ignore-ci', ' ']);
    assert.equal(noReason.code, 1);
    assert.match(noReason.stderr, /--ignore-ci needs a reason/);

    git('notes', '--ref=ci', 'add', '-f', '-m', 'success', 'HEAD');
    writeFileSync(join(project.dir, 'Pulumi.dev.yaml'), `${readFileSync(join(project.dir, 'Pulumi.dev.yaml'), 'utf8')}# an edit\n`);
    const dirty = await project.tkctl(['up', '--stack', 'dev']);
    assert.match(dirty.stderr, /CI is not green for the commit to deploy: the working tree has uncommitted changes \(Pulumi\.dev\.yaml\), which CI did not test/);
    git('checkout', '--', 'Pulumi.dev.yaml');

    // Green: the gate lets it through, and the next check (the stack must exist) answers.
    const green = await project.tkctl(['up', '--stack', 'nope']);
    assert.equal(green.code, 1);
    assert.match(green.stderr, /CI: success \(git note refs\/notes\/ci\)/);
    assert.match(green.stderr, /Stack nope does not exist in this backend\n {2}fix: tkctl init --stack nope/);
  });

  it('up --ref gates on the ref\'s commit, not HEAD\'s, and refuses a ref that names nothing', async () => {
    // A toy program where package.json's main says the program is (what Pulumi runs), so the output names the commit deployed.
    mkdirSync(join(project.dir, 'launcher'), { recursive: true });
    writeFileSync(join(project.dir, 'launcher/program.mjs'), "export const deployedFrom = 'v-old';\n");
    git('add', '-A');
    git('commit', '-qm', 'the old release');
    git('tag', 'v-old');
    const old = git('rev-parse', 'HEAD');
    git('notes', '--ref=ci', 'add', '-f', '-m', 'failure', old);
    writeFileSync(join(project.dir, 'launcher/program.mjs'), "export const deployedFrom = 'head';\n");
    git('commit', '-qam', 'the new release');
    git('notes', '--ref=ci', 'add', '-f', '-m', 'success', 'HEAD');

    const refused = await project.tkctl(['up', '--stack', 'dev', '--ref', 'v-old']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`CI is not green for v-old \\(${old.slice(0, 12)}\\): failure \\(git note refs/notes/ci\\)`));
    assert.match(refused.stderr, /fix: .*tkctl up --ref v-old --ignore-ci "<reason>"/);
    const fromEnv = await project.tkctl(['up', '--stack', 'dev', '--ref', 'v-old'], { env: { TK_CI_STATUS: 'success' } });
    assert.equal(fromEnv.code, 1);
    assert.match(fromEnv.stderr, /failure \(git note refs\/notes\/ci\); TK_CI_STATUS is ignored: it speaks for the checked-out commit [0-9a-f]{12}/);

    const unknown = await project.tkctl(['up', '--stack', 'dev', '--ref', 'v-missing']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /--ref v-missing names no commit in this checkout\n {2}fix: git fetch origin v-missing/);
    const option = await project.tkctl(['up', '--stack', 'dev', '--ref=--output=/tmp/x']);
    assert.match(option.stderr, /--ref --output=\/tmp\/x is not a git ref \(it starts with -\)/);

    // Green on the ref's commit while HEAD is not: the gate lets it through.
    git('notes', '--ref=ci', 'add', '-f', '-m', 'success', old);
    git('notes', '--ref=ci', 'add', '-f', '-m', 'failure', 'HEAD');
    const green = await project.tkctl(['up', '--stack', 'nope', '--ref', 'v-old']);
    assert.match(green.stderr, /CI: success \(git note refs\/notes\/ci\)/);
    assert.match(green.stderr, /Stack nope does not exist in this backend/);
    assert.ok(!existsSync(join(project.dir, '.trapperkeeper/deployments/nope.jsonl')));
  });

  it('up --ref deploys from a temporary worktree at the ref, with this folder\'s stack config and node_modules, records the ref, and removes the worktree', async () => {
    const old = git('rev-parse', 'v-old');
    const head = git('rev-parse', 'HEAD');
    const historyFile = join(project.dir, '.trapperkeeper/deployments/dev.jsonl');
    const before = existsSync(historyFile) ? readFileSync(historyFile, 'utf8').trim().split('\n').length : 0;
    const run = await project.tkctl(['up', '--stack', 'dev', '--ref', 'v-old', '--json']);
    const checkedOut = new RegExp(`checked out v-old \\(${old}\\) in (\\S+)`).exec(run.stderr);
    assert.ok(checkedOut, run.stderr);
    const worktree = checkedOut[1]!;
    assert.match(run.stderr, /Pulumi\.dev\.yaml: the stack's config from /);
    assert.match(run.stderr, /node_modules: the project's own \(package-lock\.json is the same\)/);
    assert.match(run.stderr, /pulumi up --stack dev at v-old/);
    assert.match(run.stderr, new RegExp(`removed the temporary worktree ${worktree.replace(/[.*+?^$()|[\]\\]/g, '\\$&')}`));

    // Gone, with nothing left registered, and the project's own node_modules untouched.
    assert.ok(!existsSync(worktree), `${worktree} was removed`);
    assert.ok(!existsSync(dirname(worktree)), 'and its scratch folder');
    assert.deepEqual(git('worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')).length, 1);
    assert.ok(existsSync(join(REPO_ROOT, 'node_modules/@pulumi/pulumi/package.json')), 'the linked node_modules is intact');
    assert.equal(git('rev-parse', 'HEAD'), head, 'the checkout did not move');
    assert.equal(git('status', '--porcelain', '--untracked-files=no'), '', 'nor change');

    const history = readFileSync(historyFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(history.length, before + 1);
    const record = history.at(-1)!;
    assert.deepEqual([record.command, record.stack, record.ref, record.commit], ['up', 'dev', 'v-old', old]);
    assert.equal(record.ciOverride, undefined, 'the ref was green');
    if (hasLanguageHost) {
      // The engine ran the program of the ref, not the checked-out one.
      assert.equal(run.code, 0, run.stderr);
      const out = JSON.parse(run.stdout) as { ref: string; commit: string; result: string; outputs: Record<string, unknown> };
      assert.deepEqual([out.ref, out.commit, out.result, out.outputs.deployedFrom], ['v-old', old, 'succeeded', 'v-old']);
      assert.equal(record.result, 'succeeded');
    } else {
      // Without a language host the engine stops at the program; everything before it ran for real.
      assert.equal(run.code, 1);
      assert.equal(record.result, 'failed');
      assert.match(String(record.error), /language|nodejs/i);
    }
  });

  it('up --ref removes the worktree when the deployment cannot start, too', async () => {
    git('notes', '--ref=ci', 'add', '-f', '-m', 'success', 'HEAD');
    // A ref whose tree has no Pulumi.yaml (an unrelated, empty history): the checkout exists, then the run stops.
    const orphan = git('commit-tree', '4b825dc642cb6eb9a060e54bf8d69288fbee4904', '-m', 'unrelated history');
    const run = await project.tkctl(['up', '--stack', 'dev', '--ref', orphan, '--ignore-ci', 'test: a ref without the project']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`error: ${orphan} has no Pulumi\\.yaml: it predates this Pulumi project`));
    const worktree = /removed the temporary worktree (\S+)/.exec(run.stderr)?.[1];
    assert.ok(worktree && !existsSync(worktree), run.stderr);
    assert.equal(git('worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')).length, 1);
  });

  it('rollback without a previous release says so; --clear removes the pin', async () => {
    const none = await project.tkctl(['rollback', '--stack', 'dev']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /Stack dev has no previous release to roll back to/);

    assert.equal(project.pulumi(['config', 'set', '--path', 'release.rollbackTo', '0.1.0-0123abcd-20261123T000001Z', '--stack', 'dev']).code, 0);
    const cleared = await project.tkctl(['rollback', '--clear', '--stack', 'dev']);
    assert.equal(cleared.code, 0, cleared.stderr);
    const release = JSON.parse(project.pulumi(['config', 'get', 'release', '--stack', 'dev']).stdout || '{}') as Record<string, unknown>;
    assert.equal(release.rollbackTo, undefined);
    assert.equal(release.allowDirty, true, 'the rest of the section stays');
  });
});
