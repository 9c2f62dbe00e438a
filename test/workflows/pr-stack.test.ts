/**
 * .github/scripts/pr-stack.sh through a real Pulumi CLI (file:// backend, passphrase secrets):
 * the config it writes for pr-<number> is one the program accepts, and the guard refuses every
 * stack that is not a PR stack it created, leaving that stack as it was. Also ssh-setup.sh and
 * affected-stacks.sh, the other scripts the workflows run. Needs only the CLI (no language host,
 * no plugins): scripts/pulumi-cli.sh finds or builds one; .ci/run builds it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseStackConfig } from '../../providers/config.js';
import { writeProgramStandIn } from '../support/program-stand-in.js';

const REPO = resolve(import.meta.dirname, '../..');
const PR_STACK = join(REPO, '.github/scripts/pr-stack.sh');

const found = spawnSync('bash', [join(REPO, 'scripts/pulumi-cli.sh'), '--no-build'], { encoding: 'utf8' });
const cli = found.status === 0 ? found.stdout.trim() || undefined : undefined;
const missing = cli === undefined ? 'no Pulumi CLI: install one, or run `bash scripts/pulumi-cli.sh` to build it from the Go module proxy' : undefined;
if (missing && process.env.CI) throw new Error(`CI must run the PR stack tests, but ${missing}`);

const SEED = 'canary-seed-Yq3vT9pL2mW8xR4k';

describe('pr-stack.sh with a real Pulumi CLI', { skip: missing }, () => {
  let scratch: string;
  let project: string;
  let env: NodeJS.ProcessEnv;

  const sh = (args: string[], extraEnv: Record<string, string> = {}) =>
    spawnSync('bash', args, { cwd: project, env: { ...env, ...extraEnv }, encoding: 'utf8' });
  const pulumi = (...args: string[]) => {
    const result = spawnSync(cli!, args, { cwd: project, env, encoding: 'utf8' });
    assert.equal(result.status, 0, `pulumi ${args.join(' ')}: ${result.stdout}${result.stderr}`);
    return result.stdout;
  };
  const stacks = () => (JSON.parse(pulumi('stack', 'ls', '--json')) as Array<{ name: string }>).map((s) => s.name).sort();

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'tk-pr-stack-'));
    project = join(scratch, 'project');
    mkdirSync(join(scratch, 'state'), { recursive: true });
    mkdirSync(project);
    copyFileSync(join(REPO, 'Pulumi.yaml'), join(project, 'Pulumi.yaml'));
    writeProgramStandIn(project);
    env = {
      PATH: `${dirname(cli!)}:${process.env.PATH}`,
      HOME: scratch,
      PULUMI_HOME: join(scratch, '.pulumi'),
      PULUMI_BACKEND_URL: `file://${join(scratch, 'state')}`,
      PULUMI_CONFIG_PASSPHRASE: 'test-passphrase',
      PULUMI_SKIP_UPDATE_CHECK: 'true',
      PR_STACKS_DOCKER_HOST: 'ssh://deploy@previews.example.com',
      PR_STACKS_SECRET_SEED: SEED,
      TK_PULUMI_CLI: cli!,
    };
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('prepare creates pr-<number>, tagged ephemeral, with a config the program accepts and secrets that are never printed', () => {
    const result = sh([PR_STACK, 'prepare', '42']);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.deepEqual(stacks(), ['pr-42']);
    assert.equal(pulumi('stack', 'tag', 'get', 'trapperkeeper:ephemeral', '--stack', 'pr-42').trim(), 'true');

    const config = JSON.parse(pulumi('config', '--json', '--show-secrets', '--stack', 'pr-42')) as Record<string, { value: string; secret: boolean }>;
    const values = Object.fromEntries(Object.entries(config).map(([key, entry]) => [key, entry.value]));
    const secretKeys = new Set(Object.entries(config).filter(([, entry]) => entry.secret).map(([key]) => key));
    assert.deepEqual([...secretKeys].sort(), ['trapperkeeper:hmacSecret', 'trapperkeeper:postgresPassword']);
    const parsed = parseStackConfig({ stack: 'pr-42', config: values, secretConfigKeys: secretKeys, processEnv: {}, envFile: { path: '.env.pr-42', values: {} } });
    assert.equal(parsed.ephemeral, true);
    assert.equal(parsed.provider, 'docker');
    if (parsed.provider !== 'docker') return;
    assert.equal(parsed.docker.host, 'ssh://deploy@previews.example.com');
    assert.deepEqual({ http: parsed.docker.ports.http, grpc: parsed.docker.ports.grpc }, { http: 20042, grpc: 30042 });

    for (const secret of [values['trapperkeeper:postgresPassword']!, values['trapperkeeper:hmacSecret']!, SEED]) {
      assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret), 'a secret was printed');
      assert.ok(!readFileSync(join(project, 'Pulumi.pr-42.yaml'), 'utf8').includes(secret), 'a secret is in plain text in the stack file');
    }
  });

  it('prepare again (the next push) keeps the same secrets, so the stack\'s database password never changes', () => {
    const before = pulumi('config', 'get', 'postgresPassword', '--stack', 'pr-42');
    rmSync(join(project, 'Pulumi.pr-42.yaml')); // a fresh checkout has no stack file
    const again = sh([PR_STACK, 'prepare', '42']);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(pulumi('config', 'get', 'postgresPassword', '--stack', 'pr-42'), before);
    const other = sh([PR_STACK, 'prepare', '43']);
    assert.equal(other.status, 0, other.stderr);
    assert.notEqual(pulumi('config', 'get', 'postgresPassword', '--stack', 'pr-43'), before, 'each PR stack has its own password');
  });

  it('up deploys through tkctl up: the CI gate passed over with the reason recorded, never a secret printed', () => {
    const up = sh([PR_STACK, 'up', '42']);
    // The engine cannot run this scratch project (no program, no plugins): what is checked is the
    // way there, which is tkctl's, and its record.
    assert.equal(up.status, 1, up.stdout + up.stderr);
    assert.match(up.stderr, /CI: .*; deploying anyway \(--ignore-ci: PR preview pr-42: deployed on push; pr\.yml runs the tests of this commit\)/);
    assert.match(up.stderr, /pulumi up --stack pr-42\n/);
    assert.match(up.stderr, /error: pulumi up of stack pr-42 failed: /);
    const history = readFileSync(join(project, '.trapperkeeper/deployments/pr-42.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(history.length, 1);
    assert.deepEqual([history[0]!.command, history[0]!.stack, history[0]!.result], ['up', 'pr-42', 'failed']);
    assert.match(String(history[0]!.ciOverride), /^PR preview pr-42: deployed on push/);
    const config = JSON.parse(pulumi('config', '--json', '--show-secrets', '--stack', 'pr-42')) as Record<string, { value: string }>;
    for (const secret of [config['trapperkeeper:postgresPassword']!.value, config['trapperkeeper:hmacSecret']!.value, SEED]) {
      assert.ok(!up.stdout.includes(secret) && !up.stderr.includes(secret), 'a secret was printed');
    }
  });

  it('refuses a stack it did not create (no ephemeral tag), for up and destroy, and leaves it there', () => {
    rmSync(join(project, 'Pulumi.prod.yaml'), { force: true });
    pulumi('stack', 'init', 'pr-7');
    rmSync(join(project, 'Pulumi.pr-7.yaml'), { force: true });
    for (const command of ['destroy', 'up', 'prepare']) {
      const refused = sh([PR_STACK, command, '7']);
      assert.equal(refused.status, 1, `${command}: ${refused.stdout}${refused.stderr}`);
      assert.match(refused.stderr, /refusing pr-7: it exists without the tag trapperkeeper:ephemeral=true/);
    }
    assert.ok(stacks().includes('pr-7'));
  });

  it('refuses a committed stack file that is not ephemeral (the prod template renamed pr-8), before touching anything', () => {
    copyFileSync(join(REPO, 'Pulumi.prod.yaml'), join(project, 'Pulumi.pr-8.yaml'));
    const refused = sh([PR_STACK, 'up', '8']);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /refusing pr-8: Pulumi\.pr-8\.yaml exists without trapperkeeper:ephemeral: true/);
    assert.ok(!stacks().includes('pr-8'), 'no stack was created');
  });

  it('takes nothing but a PR number: prod, staging, node-alice, 0, -1, "1 prod" are refused', () => {
    pulumi('stack', 'init', 'prod');
    for (const number of ['prod', 'staging', 'node-alice', '0', '-1', '1 prod', '12abc', '']) {
      const refused = sh([PR_STACK, 'destroy', number]);
      assert.equal(refused.status, 1, number);
      assert.match(refused.stderr, /the PR number must be a positive integer/);
    }
    assert.ok(stacks().includes('prod'), 'prod is still there');
  });

  it('destroy removes its own PR stack, then finds nothing to do', () => {
    const destroyed = sh([PR_STACK, 'destroy', '42']);
    assert.equal(destroyed.status, 0, destroyed.stdout + destroyed.stderr);
    assert.match(destroyed.stdout, /Stack 'pr-42' has been removed/);
    assert.ok(!stacks().includes('pr-42'));
    const again = sh([PR_STACK, 'destroy', '42']);
    assert.equal(again.status, 0);
    assert.match(again.stderr, /pr-42 does not exist; nothing to destroy/);
    assert.deepEqual(stacks(), ['pr-43', 'pr-7', 'prod']);
  });

  it('prepare says which variable is missing instead of deploying half configured', () => {
    const noHost = sh([PR_STACK, 'prepare', '50'], { PR_STACKS_DOCKER_HOST: '' });
    assert.equal(noHost.status, 1);
    assert.match(noHost.stderr, /PR_STACKS_DOCKER_HOST is not set/);
    const noSeed = sh([PR_STACK, 'prepare', '50'], { PR_STACKS_SECRET_SEED: '' });
    assert.equal(noSeed.status, 1);
    assert.match(noSeed.stderr, /PR_STACKS_SECRET_SEED is not set/);
    assert.ok(!stacks().includes('pr-50'));
  });
});

describe('ssh-setup.sh', () => {
  it('installs the key (0600) and the host keys without printing either, and never turns host checking off', () => {
    const home = mkdtempSync(join(tmpdir(), 'tk-ssh-setup-'));
    try {
      const key = '-----BEGIN OPENSSH PRIVATE KEY-----\ncanary-key-material-3kq9\n-----END OPENSSH PRIVATE KEY-----';
      const result = spawnSync('bash', [join(REPO, '.github/scripts/ssh-setup.sh')], {
        env: { PATH: process.env.PATH, HOME: home, DEPLOY_SSH_KEY: key, DEPLOY_SSH_KNOWN_HOSTS: 'tk.example.com ssh-ed25519 AAAAcanary' },
        encoding: 'utf8',
      });
      assert.equal(result.status, 0, result.stderr);
      assert.doesNotMatch(result.stdout + result.stderr, /canary/);
      assert.equal(readFileSync(join(home, '.ssh/id_deploy'), 'utf8'), `${key}\n`);
      assert.equal(statSync(join(home, '.ssh/id_deploy')).mode & 0o777, 0o600);
      assert.match(readFileSync(join(home, '.ssh/config'), 'utf8'), /StrictHostKeyChecking yes/);

      const noHosts = spawnSync('bash', [join(REPO, '.github/scripts/ssh-setup.sh')], { env: { PATH: process.env.PATH, HOME: home, DEPLOY_SSH_KEY: key }, encoding: 'utf8' });
      assert.equal(noHosts.status, 1);
      assert.match(noHosts.stderr, /DEPLOY_SSH_KNOWN_HOSTS is not set/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('affected-stacks.sh', () => {
  const repo = mkdtempSync(join(tmpdir(), 'tk-affected-'));
  after(() => rmSync(repo, { recursive: true, force: true }));
  const git = (...args: string[]) => {
    const result = spawnSync('git', args, { cwd: repo, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
  };
  const change = (files: Record<string, string>) => {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(repo, path)), { recursive: true });
      writeFileSync(join(repo, path), text);
    }
    git('add', '.');
    git('commit', '-q', '-m', 'change');
  };
  const affected = () => {
    const result = spawnSync('bash', [join(REPO, '.github/scripts/affected-stacks.sh'), 'main'], { cwd: repo, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.split('\n').filter(Boolean);
  };

  before(() => {
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 'test@example.com');
    git('config', 'user.name', 'test');
    change({ 'Pulumi.yaml': 'name: trapperkeeper\n', 'Pulumi.dev.yaml': '', 'Pulumi.staging.yaml': '', 'Pulumi.prod.yaml': '', 'Pulumi.node-alice.yaml': '', 'index.ts': '' });
    git('checkout', '-q', '-b', 'feature');
  });

  it('docs, tests and workflows affect no stack', () => {
    change({ 'README.md': 'x', 'test/a.test.ts': 'x', '.github/workflows/pr.yml': 'x', 'components/a.test.ts': 'x' });
    assert.deepEqual(affected(), []);
  });

  it('a stack file affects its stack only; dev never', () => {
    change({ 'Pulumi.staging.yaml': 'config: {}\n', 'Pulumi.dev.yaml': 'config: {}\n' });
    assert.deepEqual(affected(), ['staging']);
  });

  it('the program, the app or a migration affects every long-lived stack', () => {
    change({ 'migrations/postgres/002_x.sql': 'SELECT 1;' });
    assert.deepEqual(affected(), ['node-alice', 'prod', 'staging']);
  });
});
