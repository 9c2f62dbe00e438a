/**
 * `tkctl init` through the real Pulumi CLI (file:// backend, passphrase): the stack is created,
 * every secret the program needs is generated once as a Pulumi secret the program's own loader
 * accepts, nothing is overwritten on a second run, and no value reaches the output.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../support/images.js';
import { createTkctlProject, findPulumiCli, NO_PULUMI_CLI, type TkctlProject } from './harness.js';

const cli = findPulumiCli();
if (!cli && process.env.CI) throw new Error(`CI must run the tkctl CLI tests, but ${NO_PULUMI_CLI}`);

const SECRET_KEYS = ['trapperkeeper:postgresPassword', 'trapperkeeper:hmacSecret', 'trapperkeeper:grafanaAdminPassword'];

describe('tkctl init through the real Pulumi CLI', { skip: cli ? undefined : NO_PULUMI_CLI }, () => {
  let project: TkctlProject;
  const config = (stack: string, showSecrets = false) => {
    const result = project.pulumi(['config', '--json', '--stack', stack, ...(showSecrets ? ['--show-secrets'] : [])]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as Record<string, { value?: string; secret?: boolean }>;
  };
  /** The program's config loader (what index.ts runs first) on the stack's config, as the language host hands it over. */
  const programAccepts = (stack: string) => {
    const entries = config(stack, true);
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test/pulumi-cli/load-stack-config.ts'), project.dir], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        PULUMI_NODEJS_STACK: stack,
        PULUMI_NODEJS_PROJECT: 'trapperkeeper',
        PULUMI_CONFIG: JSON.stringify(Object.fromEntries(Object.entries(entries).map(([key, entry]) => [key, entry.value ?? '']))),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(Object.entries(entries).filter(([, entry]) => entry.secret).map(([key]) => key)),
      },
    });
    return JSON.parse(out.trim().split('\n').at(-1)!) as { ok: boolean; problems?: unknown[] };
  };

  before(() => {
    project = createTkctlProject(cli!, ['Pulumi.dev.yaml']);
  });
  after(() => project.remove());

  it('creates the stack and generates every secret as a Pulumi secret the program accepts, printing no value', async () => {
    const run = await project.tkctl(['init', '--stack', 'dev', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { stack: 'dev', created: true, secrets: { postgresPassword: 'generated', hmacSecret: 'generated', grafanaAdminPassword: 'generated' } });
    const stacks = JSON.parse(project.pulumi(['stack', 'ls', '--json']).stdout) as { name: string }[];
    assert.deepEqual(stacks.map((stack) => stack.name), ['dev']);

    const plain = config('dev');
    for (const key of SECRET_KEYS) {
      assert.equal(plain[key]?.secret, true, `${key} is a secret`);
      assert.equal(plain[key]?.value, undefined, `${key} is not shown without --show-secrets`);
    }
    const values = config('dev', true);
    for (const key of SECRET_KEYS) {
      const value = values[key]!.value!;
      assert.ok(value.length >= 24, `${key} has a real value`);
      assert.ok(!run.stdout.includes(value) && !run.stderr.includes(value), `${key}'s value is not printed`);
    }
    assert.match(values['trapperkeeper:hmacSecret']!.value!, /^[0-9a-f]{32}:[A-Za-z0-9+/]{43}=$/, 'the app\'s TK_HMAC_SECRET format');
    assert.deepEqual(programAccepts('dev'), { ok: true });
  });

  it('generates the Grafana admin password too, so turning monitoring on later needs no secret by hand', async () => {
    assert.equal(project.pulumi(['config', 'set', '--path', 'monitoring.enabled', 'true', '--stack', 'dev']).code, 0);
    try {
      assert.deepEqual(programAccepts('dev'), { ok: true });
    } finally {
      assert.equal(project.pulumi(['config', 'rm', '--path', 'monitoring.enabled', '--stack', 'dev']).code, 0);
    }
  });

  it('keeps existing secrets on a second run and fills in only a missing one', async () => {
    const before = config('dev', true);
    assert.equal(project.pulumi(['config', 'rm', 'hmacSecret', '--stack', 'dev']).code, 0);
    const run = await project.tkctl(['init', '--stack', 'dev', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { stack: 'dev', created: false, secrets: { postgresPassword: 'kept', hmacSecret: 'generated', grafanaAdminPassword: 'kept' } });
    const after = config('dev', true);
    assert.equal(after['trapperkeeper:postgresPassword']!.value, before['trapperkeeper:postgresPassword']!.value, 'the password was not overwritten');
    assert.notEqual(after['trapperkeeper:hmacSecret']!.value, before['trapperkeeper:hmacSecret']!.value, 'a new HMAC secret');
    assert.deepEqual(programAccepts('dev'), { ok: true });
  });

  it('refuses to overwrite a secret stored in plain text, and the printed fix works', async () => {
    assert.equal(project.pulumi(['config', 'set', 'postgresPassword', 'plain-text-password-1', '--stack', 'dev']).code, 0);
    const refused = await project.tkctl(['init', '--stack', 'dev']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /postgresPassword is stored in plain text in Pulumi\.dev\.yaml; init will not overwrite it/);
    assert.ok(!refused.stderr.includes('plain-text-password-1'), 'the value is not echoed');
    assert.equal(config('dev', true)['trapperkeeper:postgresPassword']!.value, 'plain-text-password-1', 'left untouched');

    const fix = /fix: (.*)/.exec(refused.stderr)?.[1];
    assert.ok(fix, refused.stderr);
    assert.match(fix, /^pulumi config rm postgresPassword -s dev && tkctl init --stack dev {2}#/);
    const applied = project.sh(fix);
    assert.equal(applied.code, 0, `the printed fix, run verbatim: ${applied.stderr}`);
    assert.equal(config('dev')['trapperkeeper:postgresPassword']?.secret, true);
    assert.notEqual(config('dev', true)['trapperkeeper:postgresPassword']?.value, 'plain-text-password-1');
  });

  it('uses the selected stack without --stack, and says how to choose one when none is selected', async () => {
    assert.equal(project.pulumi(['stack', 'init', 'other']).code, 0);
    const run = await project.tkctl(['init', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { stack: string }).stack, 'other');

    const empty = createTkctlProject(cli!);
    try {
      const none = await empty.tkctl(['init']);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /No stack selected\n {2}fix: tkctl init --stack <name> creates one/);
    } finally {
      empty.remove();
    }
  });

  it('answers --help and refuses unknown options with a pointer to it', async () => {
    const help = await project.tkctl(['init', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: tkctl init/);
    const wrong = await project.tkctl(['init', '--force']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /Unknown option '--force'[^]*fix: tkctl init --help/);
  });
});
