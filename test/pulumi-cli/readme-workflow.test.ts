/**
 * The README's stack commands, verbatim, through a real Pulumi CLI (a file:// backend with a
 * passphrase), and the config they write read back by the program's own loader. Then every kind
 * of problem the validator reports is caused through the CLI, and the fix line it prints is run,
 * verbatim, through a shell: each must make its problem go away. Needs only the CLI (no language
 * host, no provider plugins): scripts/pulumi-cli.sh finds or builds one; .ci/run builds it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ConfigProblem } from '../../providers/config.js';

const REPO = resolve(import.meta.dirname, '../..');

function findPulumiCli(): string | undefined {
  const found = spawnSync('bash', [join(REPO, 'scripts/pulumi-cli.sh'), '--no-build'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() || undefined : undefined;
}

/** The README's "A stack per environment" block: the lines that create the stack and its secrets. */
function readmeStackSetupLines(): string[] {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const block = /### A stack per environment[^]*?```sh\n([^]*?)```/.exec(readme)?.[1];
  assert.ok(block, 'the README has the stack block');
  const commands = block.split('\n').map((line) => line.replace(/\s+#.*$/, '').trim());
  const setup = commands.filter((line) => line.startsWith('pulumi stack init ') || line.startsWith('pulumi config set '));
  assert.equal(setup.length, 3, `stack init and two config set lines: ${setup.join(' | ')}`);
  return setup;
}

const cli = findPulumiCli();
const missing = cli === undefined ? 'no Pulumi CLI: install one, or run `bash scripts/pulumi-cli.sh` to build it from the Go module proxy' : undefined;
if (missing && process.env.CI) throw new Error(`CI must run the Pulumi CLI tests, but ${missing}`);

describe('the README\'s Pulumi workflow through the real CLI', { skip: missing }, () => {
  let scratch: string;
  let project: string;
  let env: NodeJS.ProcessEnv;

  /** A line a person types, run verbatim by a shell in the project folder. */
  const sh = (line: string) => {
    const result = spawnSync('bash', ['-c', line], { cwd: project, env, encoding: 'utf8' });
    assert.equal(result.status, 0, `\`${line}\` failed:\n${result.stdout}${result.stderr}`);
    return result.stdout;
  };

  /** The stack's config as the language host hands it to the program, through loadStackConfig. */
  const load = (): { ok: boolean; problems?: ConfigProblem[] } => {
    const config = JSON.parse(sh('pulumi config --json --show-secrets')) as Record<string, { value?: string; secret?: boolean }>;
    const values = Object.fromEntries(Object.entries(config).map(([key, entry]) => [key, entry.value ?? '']));
    const secretKeys = Object.entries(config).filter(([, entry]) => entry.secret).map(([key]) => key);
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(REPO, 'test/pulumi-cli/load-stack-config.ts'), project], {
      cwd: REPO,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        PULUMI_NODEJS_STACK: 'dev',
        PULUMI_NODEJS_PROJECT: 'trapperkeeper',
        PULUMI_CONFIG: JSON.stringify(values),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(secretKeys),
      },
    });
    return JSON.parse(out.trim().split('\n').at(-1)!) as { ok: boolean; problems?: ConfigProblem[] };
  };

  /** Causes problems through the CLI, checks each is reported, runs every printed fix verbatim. */
  const breakAndFix = (breakLines: string[], expected: RegExp[]) => {
    for (const line of breakLines) sh(line);
    const broken = load();
    assert.equal(broken.ok, false, 'the broken config is refused');
    const problems = broken.problems ?? [];
    const described = problems.map((p) => `${p.path}: ${p.problem}; ${p.fix}`);
    for (const pattern of expected) assert.ok(described.some((line) => pattern.test(line)), `${pattern} among:\n${described.join('\n')}`);
    for (const problem of problems) {
      assert.match(problem.fix, /^pulumi config /, `the fix of ${problem.path} is a command: ${problem.fix}`);
      sh(problem.fix);
    }
    const fixed = load();
    assert.deepEqual(fixed.problems ?? [], [], 'every printed fix, run verbatim, removed its problem');
    assert.equal(fixed.ok, true);
  };

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'tk-pulumi-cli-'));
    project = join(scratch, 'project');
    mkdirSync(project);
    for (const file of ['Pulumi.yaml', 'Pulumi.dev.yaml']) copyFileSync(join(REPO, file), join(project, file));
    env = {
      PATH: `${dirname(cli!)}:${process.env.PATH}`,
      HOME: scratch,
      PULUMI_HOME: join(scratch, '.pulumi'),
      PULUMI_BACKEND_URL: `file://${join(scratch, 'state')}`,
      PULUMI_CONFIG_PASSPHRASE: 'readme-workflow-test',
      PULUMI_SKIP_UPDATE_CHECK: 'true',
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
    };
    mkdirSync(join(scratch, 'state'));
  });

  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('creates the stack and its secrets with the README\'s lines, and the program accepts them as secrets', () => {
    for (const line of readmeStackSetupLines()) sh(line);
    const config = JSON.parse(sh('pulumi config --json')) as Record<string, { secret?: boolean; value?: string }>;
    for (const key of ['trapperkeeper:postgresPassword', 'trapperkeeper:hmacSecret']) {
      assert.equal(config[key]?.secret, true, `${key} is stored as a secret`);
      assert.equal(config[key]?.value, undefined, `${key} is not shown without --show-secrets`);
    }
    assert.ok(!readFileSync(join(project, 'Pulumi.dev.yaml'), 'utf8').includes('trapperkeeper-deploy:'), 'no key in another namespace');
    assert.deepEqual(load(), { ok: true });
  });

  it('prints a fix for every wrong key, missing secret and unknown key that works when run as printed', () => {
    breakAndFix(
      [
        "pulumi config set --path 'release.gate.successes' three",
        "pulumi config set --path 'release.gate.intervalMs.nested' 1",
        "pulumi config set --path 'release.drainTimeoutMs' -- -5",
        "pulumi config set --path 'release.keepReleases' 1",
        "pulumi config set --path 'release.lockWaitMs' soon",
        "pulumi config set --path 'release.allowDirty' maybe",
        "pulumi config set --path 'release.rollbackTo' 'not a release'",
        "pulumi config set --path 'release.gaet.successes' 3",
        "pulumi config set 'snapshots.retentionDays' 7",
        "pulumi config set --path 'snapshots.lockWaitTimeoutMs' 0",
        "pulumi config set --path 'app.logLevel' loud",
        "pulumi config set --path 'app.version' latest",
        "pulumi config set --path 'app.publicUrl' 'ftp://x'",
        "pulumi config set --path 'database.name' 'Bad-Name'",
        "pulumi config set --path 'database.user' '1user'",
        "pulumi config set --path 'docker.ports.http' 70000",
        "pulumi config set --path 'docker.bindAddress' 'not an address'",
        "pulumi config set --path 'docker.host' 'ftp://nowhere'",
        'pulumi config set ephemeral sometimes',
        'pulumi config rm provider',
        'pulumi config rm postgresPassword',
        'pulumi config rm hmacSecret',
      ],
      [
        /^release\.gate\.successes: /,
        /^release\.gate\.intervalMs: /,
        /^release\.keepReleases: must be at least 2/,
        /^release\.rollbackTo: must be a release id/,
        /^release\.gaet: is not a known key \(did you mean 'gate'\?\); pulumi config rm --path 'release\.gaet'/,
        /^snapshots\.retentionDays: was set as one flat key/,
        /^app\.logLevel: must be one of/,
        /^docker\.ports\.http: /,
        /^provider: /,
        /^postgresPassword: is not set/,
        /^hmacSecret: is not set/,
      ],
    );
  });

  it('prints working fixes for a secret in plain text, a gate that can never pass and two listeners on one port', () => {
    breakAndFix(
      [
        "pulumi config set --plaintext hmacSecret \"$(openssl rand -hex 16):$(openssl rand -base64 32)\"",
        "pulumi config set --path 'release.gate.successes' 100",
        "pulumi config set --path 'release.gate.timeoutMs' 5000",
        "pulumi config set --path 'docker.ports.grpc' 8080",
      ],
      [/^hmacSecret: is stored in plain text/, /^release\.gate\.timeoutMs: .*can never pass/, /^docker\.ports\./],
    );
  });

  it('prints working fixes for the notification sinks: a secret in plain text, a missing Slack URL, a bad topic URL, an unknown event', () => {
    breakAndFix(
      [
        "pulumi config set --path 'notifications.webhook.url' https://ops.example.com/hooks/tk",
        'pulumi config set --plaintext --path \'notifications.webhook.secret\' "$(openssl rand -hex 32)"',
        "pulumi config set --path 'notifications.webhook.events' release.failed,release.done",
        "pulumi config set --path 'notifications.ntfy.url' https://ntfy.sh/",
        "pulumi config set --path 'notifications.slack.events' release.failed",
      ],
      [
        /^notifications\.webhook\.secret: is stored in plain text/,
        /^notifications\.webhook\.events: names unknown event 'release\.done'/,
        /^notifications\.ntfy\.url: must end in the topic/,
        /^notifications\.slack\.url: is not set/,
      ],
    );
    const config = JSON.parse(sh('pulumi config --json')) as Record<string, { secret?: boolean }>;
    assert.equal(config['trapperkeeper:notifications']?.secret, true, 'the notifications now hold secrets');
  });
});
