/**
 * What the workflows must keep true whatever else changes in them, read from the YAML itself:
 * minimal permissions, secrets only through env and never printed, no stack but a PR's ever
 * destroyed, prod deployed only from a tag or an approved manual run, one deploy per stack at a
 * time, and the one PR comment found by its marker.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { parseStackConfig } from '../../providers/config.js';
import { CANARY_ENV } from '../../providers/docker/testing.js';
import { MARKER } from '../../.github/scripts/pr-comment.mjs';

const REPO = resolve(import.meta.dirname, '../..');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
  if?: string;
}
interface Job {
  name?: string;
  uses?: string;
  if?: string;
  needs?: string | string[];
  permissions?: Record<string, string> | string;
  environment?: string | { name: string };
  concurrency?: { group: string; 'cancel-in-progress'?: boolean } | string;
  env?: Record<string, string>;
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

function load<T>(path: string): T {
  return parseYaml(readFileSync(join(REPO, path), 'utf8')) as T;
}

const WORKFLOWS = Object.fromEntries(
  readdirSync(join(REPO, '.github/workflows'))
    .filter((file) => file.endsWith('.yml'))
    .map((file) => [file, load<Workflow>(`.github/workflows/${file}`)]),
) as Record<string, Workflow>;
const SETUP_ACTION = load<{ runs: { steps: Step[] } }>('.github/actions/deploy-setup/action.yml');

/** Every step of every job, with the env it runs with (workflow, job and step env merged). */
function allSteps(): Array<{ where: string; job: Job; step: Step; env: Record<string, string> }> {
  const steps = Object.entries(WORKFLOWS).flatMap(([file, workflow]) =>
    Object.entries(workflow.jobs).flatMap(([id, job]) =>
      (job.steps ?? []).map((step, index) => ({
        where: `${file} jobs.${id}.steps[${index}]`,
        job,
        step,
        env: { ...workflow.env, ...job.env, ...step.env },
      })),
    ),
  );
  const composite = SETUP_ACTION.runs.steps.map((step, index) => ({ where: `deploy-setup steps[${index}]`, job: {} as Job, step, env: { ...step.env } }));
  return [...steps, ...composite];
}

const runSteps = () => allSteps().filter(({ step }) => typeof step.run === 'string');

describe('workflow permissions', () => {
  it('every workflow reads contents only by default, and every job says what it needs', () => {
    for (const [file, workflow] of Object.entries(WORKFLOWS)) {
      assert.deepEqual(workflow.permissions, { contents: 'read' }, `${file}: top-level permissions`);
      for (const [id, job] of Object.entries(workflow.jobs)) {
        if (job.uses) continue; // a reusable workflow sets its own jobs' permissions
        assert.ok(job.permissions && typeof job.permissions === 'object', `${file} jobs.${id} has no permissions block`);
      }
    }
  });

  it('the only write permissions are pull-requests for the PR comment, contents for the CI note, and id-token for the jobs that assume an AWS role', () => {
    const writes = Object.entries(WORKFLOWS).flatMap(([file, workflow]) =>
      Object.entries(workflow.jobs).flatMap(([id, job]) =>
        Object.entries(typeof job.permissions === 'object' ? job.permissions : {})
          .filter(([, level]) => level === 'write')
          .map(([scope]) => `${file} ${id} ${scope}`),
      ),
    );
    assert.deepEqual(writes.sort(), ['deploy.yml ci-note contents', 'deploy.yml staging id-token', 'pr.yml comment pull-requests', 'pr.yml preview id-token']);
    // contents: write pushes one thing, refs/notes/ci, with the test job's result and nothing else.
    const note = WORKFLOWS['deploy.yml']!.jobs['ci-note']!;
    assert.deepEqual(note.needs, 'test');
    assert.deepEqual(
      (note.steps ?? []).map((step) => step.uses ?? step.run),
      ['actions/checkout@v4', 'bash .github/scripts/ci-note.sh "$RESULT" "$GITHUB_SHA"'],
    );
    assert.equal(note.steps?.[1]?.env?.RESULT, '${{ needs.test.result }}');
    // id-token: write mints a token for exactly one thing: the AWS role the job then assumes.
    for (const where of writes.filter((w) => w.endsWith(' id-token'))) {
      const [file, id] = where.split(' ');
      const assumes = (WORKFLOWS[file!]!.jobs[id!]!.steps ?? []).filter((step) => step.uses?.startsWith('aws-actions/configure-aws-credentials@'));
      assert.equal(assumes.length, 1, `${where} without a configure-aws-credentials step`);
    }
  });

  it('no workflow runs pull_request_target (PR code with the base repository\'s secrets and a write token)', () => {
    for (const [file, workflow] of Object.entries(WORKFLOWS)) assert.ok(!('pull_request_target' in workflow.on), file);
  });
});

describe('secrets in the workflows', () => {
  it('are never interpolated into a run: script, only passed through env', () => {
    for (const { where, step } of runSteps()) {
      assert.doesNotMatch(step.run!, /\$\{\{\s*(secrets|inputs)\./, `${where} interpolates a secret or input into its script`);
    }
  });

  it('are never echoed: a line printing a secret-bound variable must write it to a file', () => {
    let checked = 0;
    for (const { where, step, env } of runSteps()) {
      const secretVars = Object.entries(env)
        .filter(([, value]) => /\$\{\{\s*(secrets\.|inputs\.ssh)/.test(String(value)))
        .map(([name]) => name);
      for (const line of step.run!.split('\n')) {
        assert.doesNotMatch(line, /\bset\s+-[a-z]*x/, `${where}: set -x prints every command with its values`);
        if (!/\b(echo|printf|cat)\b/.test(line)) continue;
        for (const name of secretVars) {
          if (!new RegExp(`\\$\\{?${name}\\b`).test(line)) continue;
          checked += 1;
          assert.match(line, />>?\s*\S/, `${where} prints ${name}: ${line.trim()}`);
        }
      }
    }
    // The workflows pass secrets to scripts rather than handling them inline; nothing to redirect today.
    assert.equal(checked, 0);
  });

  it('come from the secret store only: every secrets.* is a step/job/workflow env value or an action input', () => {
    for (const [file, workflow] of Object.entries(WORKFLOWS)) {
      const text = readFileSync(join(REPO, '.github/workflows', file), 'utf8');
      for (const [index, line] of text.split('\n').entries()) {
        if (!line.includes('secrets.')) continue;
        assert.match(line, /^\s+[A-Za-z_][\w-]*: \$\{\{ secrets\.[A-Z_]+ \}\}$/, `${file}:${index + 1} uses a secret outside a key: value line`);
      }
      assert.ok(workflow);
    }
  });
});

describe('stacks the workflows touch', () => {
  const pulumiLines = () =>
    runSteps().flatMap(({ where, step }) =>
      step.run!.split('\n').filter((line) => /\b(pulumi|tkctl|pr-stack\.sh)\b/.test(line)).map((line) => ({ where, line: line.trim() })),
    );

  it('nothing is destroyed or removed except through pr-stack.sh with the PR number', () => {
    const destructive = pulumiLines().filter(({ line }) => /\b(destroy|stack rm|rm)\b/.test(line));
    assert.deepEqual(
      destructive.map(({ where, line }) => `${where}: ${line}`),
      ['pr-stack.yml jobs.destroy.steps[2]: bash .github/scripts/pr-stack.sh destroy "$PR_NUMBER"'],
    );
    const env = WORKFLOWS['pr-stack.yml']!.jobs.destroy!.steps![2]!.env!;
    assert.equal(env.PR_NUMBER, '${{ github.event.pull_request.number }}');
  });

  it('deploys go through tkctl up, which names its stack: staging and prod in deploy.yml, pr-<number> through pr-stack.sh', () => {
    const ups = pulumiLines().filter(({ line }) => /\bup\b/.test(line));
    assert.deepEqual(
      ups.map(({ where, line }) => `${where}: ${line}`),
      [
        'deploy.yml jobs.staging.steps[3]: npm run -s tkctl -- up --stack staging',
        'deploy.yml jobs.prod.steps[2]: npm run -s tkctl -- up --stack prod',
        'pr-stack.yml jobs.deploy.steps[2]: bash .github/scripts/pr-stack.sh up "$PR_NUMBER"',
      ],
    );
    assert.ok(!pulumiLines().some(({ line }) => /\bpulumi up\b/.test(line)), 'no workflow calls pulumi up around tkctl');
    const script = readFileSync(join(REPO, '.github/scripts/pr-stack.sh'), 'utf8');
    assert.doesNotMatch(script, /"\$PULUMI" up\b/, 'pr-stack.sh deploys through tkctl up too');
    assert.match(script, /node "\$TKCTL" up --stack "\$stack"/);
  });

  it('staging and prod pass tkctl\'s CI gate only on the test job\'s result for this commit, never with --ignore-ci', () => {
    const deploy = WORKFLOWS['deploy.yml']!;
    for (const id of ['staging', 'prod']) {
      const job = deploy.jobs[id]!;
      assert.equal(job.needs, 'test');
      const step = job.steps!.find((candidate) => /tkctl -- up/.test(candidate.run ?? ''))!;
      assert.equal(step.env?.TK_CI_STATUS, '${{ needs.test.result }}', `${id}: TK_CI_STATUS comes from the test job`);
      assert.doesNotMatch(step.run!, /--ignore-ci|--ref/, `${id} deploys the tested checkout through the gate`);
    }
    for (const { where, env } of allSteps()) {
      if (where.startsWith('deploy.yml jobs.staging') || where.startsWith('deploy.yml jobs.prod')) continue;
      assert.equal(env.TK_CI_STATUS, undefined, `${where} sets TK_CI_STATUS outside a deploy that waited for the tests`);
    }
  });

  it('prod deploys only from a v* tag, or a manual run from main or a tag, through the production environment', () => {
    const deploy = WORKFLOWS['deploy.yml']!;
    assert.deepEqual(Object.keys(deploy.on).sort(), ['push', 'workflow_dispatch']);
    assert.deepEqual(deploy.on.push, { branches: ['main'], tags: ['v*'] });
    const prod = deploy.jobs.prod!;
    assert.equal(prod.environment, 'production');
    const condition = prod.if!.replace(/\s+/g, ' ');
    assert.match(condition, /^\(github\.event_name == 'push' && startsWith\(github\.ref, 'refs\/tags\/v'\)\) \|\| \(github\.event_name == 'workflow_dispatch' && inputs\.stack == 'prod' && /);
    assert.doesNotMatch(condition, /refs\/heads\/main'\)\s*\)\s*\|\|/, 'a push to main never reaches prod');
    const staging = deploy.jobs.staging!;
    assert.equal(staging.environment, 'staging');
    assert.match(staging.if!, /github\.ref == 'refs\/heads\/main'/);
    for (const id of ['staging', 'prod']) assert.deepEqual(deploy.jobs[id]!.needs, 'test', `${id} waits for the tests`);
  });

  it('one deploy per stack at a time, queued and never cancelled midway; a PR stack\'s deploy and destroy share one queue', () => {
    const groups: Record<string, string> = {};
    for (const [file, workflow] of Object.entries(WORKFLOWS)) {
      for (const [id, job] of Object.entries(workflow.jobs)) {
        const touchesStack = (job.steps ?? []).some((step) => /pulumi up|tkctl -- up|pr-stack\.sh/.test(step.run ?? ''));
        if (!touchesStack) continue;
        assert.ok(job.concurrency && typeof job.concurrency === 'object', `${file} ${id} has no concurrency group`);
        assert.equal(job.concurrency['cancel-in-progress'], false, `${file} ${id} could be cancelled mid-deploy`);
        groups[`${file} ${id}`] = job.concurrency.group;
      }
    }
    assert.deepEqual(groups, {
      'deploy.yml staging': 'stack-staging',
      'deploy.yml prod': 'stack-prod',
      'pr-stack.yml deploy': 'stack-pr-${{ github.event.pull_request.number }}',
      'pr-stack.yml destroy': 'stack-pr-${{ github.event.pull_request.number }}',
    });
  });

  it('the PR stack follows the deploy-preview label: deployed while labelled, destroyed on close or unlabel', () => {
    const prStack = WORKFLOWS['pr-stack.yml']!;
    assert.deepEqual((prStack.on.pull_request as { types: string[] }).types, ['labeled', 'unlabeled', 'synchronize', 'reopened', 'closed']);
    assert.match(prStack.jobs.deploy!.if!, /github\.event\.action != 'closed'.*contains\(github\.event\.pull_request\.labels\.\*\.name, 'deploy-preview'\)/s);
    assert.match(prStack.jobs.destroy!.if!, /github\.event\.action == 'closed' && contains\(github\.event\.pull_request\.labels\.\*\.name, 'deploy-preview'\)/);
    assert.match(prStack.jobs.destroy!.if!, /github\.event\.action == 'unlabeled' && github\.event\.label\.name == 'deploy-preview'/);
  });

  it('Pulumi.staging.yaml, the stack deploy.yml deploys on main, is a valid AWS stack config that keeps its data', () => {
    const { config } = parseYaml(readFileSync(join(REPO, 'Pulumi.staging.yaml'), 'utf8')) as { config: Record<string, unknown> };
    const values = Object.fromEntries(Object.entries(config).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]));
    const parsed = parseStackConfig({ stack: 'staging', config: values, processEnv: CANARY_ENV, envFile: { path: '.env.staging', values: {} } });
    assert.equal(parsed.ephemeral, false);
    assert.equal(parsed.release.allowDirty, false);
    assert.ok(parsed.provider === 'aws', 'staging is the AWS example stack');
    assert.equal(parsed.aws.database.deletionProtection, true, 'RDS refuses to delete the staging database');
    assert.equal(parsed.aws.database.finalSnapshot, true, 'deleting it takes a final snapshot');
  });

  it('AWS credentials come from GitHub\'s OIDC token and a role ARN variable, never from stored keys', () => {
    for (const [file, workflow] of Object.entries(WORKFLOWS)) {
      const text = readFileSync(join(REPO, '.github/workflows', file), 'utf8');
      assert.doesNotMatch(text, /AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws-access-key-id|aws-secret-access-key/, `${file} uses long-lived AWS keys`);
      for (const job of Object.values(workflow.jobs)) {
        for (const step of (job.steps ?? []).filter((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'))) {
          assert.match(step.with?.['role-to-assume'] ?? '', /^\$\{\{ vars\.AWS_[A-Z_]*ROLE_ARN \}\}$/, `${file}: the role comes from a variable`);
        }
      }
    }
    const staging = WORKFLOWS['deploy.yml']!.jobs.staging!;
    const steps = staging.steps!;
    const assume = steps.findIndex((step) => step.uses?.startsWith('aws-actions/configure-aws-credentials@'));
    assert.equal(steps[assume]!.with!['role-to-assume'], '${{ vars.AWS_ROLE_ARN }}', 'the staging environment\'s deploy role');
    assert.ok(assume < steps.findIndex((step) => /tkctl -- up/.test(step.run ?? '')), 'credentials before the deploy');
    assert.deepEqual(staging.permissions, { contents: 'read', 'id-token': 'write' });
  });
});

describe('the PR comment', () => {
  it('pr.yml posts it once through pr-comment.mjs, after the tests, migrations and previews, whatever their result', () => {
    const comment = WORKFLOWS['pr.yml']!.jobs.comment!;
    assert.deepEqual(comment.needs, ['test', 'migrations', 'preview']);
    assert.match(comment.if!, /^always\(\)/);
    const posting = (comment.steps ?? []).filter((step) => /pr-comment\.mjs/.test(step.run ?? ''));
    assert.equal(posting.length, 1);
    assert.match(posting[0]!.run!, /--migrations artifacts\/migrations\/migrations\.md --previews artifacts\/previews/);
    assert.equal(MARKER, '<!-- trapperkeeper-deploy:pr-preview -->');
  });

  it('the migrations job runs the tkctl command against the PR\'s base branch, with the full history', () => {
    const job = WORKFLOWS['pr.yml']!.jobs.migrations!;
    assert.deepEqual(job.steps![0]!.with, { 'fetch-depth': 0 });
    const run = job.steps!.find((step) => /migrations\.ts pending/.test(step.run ?? ''))!;
    assert.match(run.run!, /pending --base "origin\/\$BASE_REF" --markdown >migrations\.md/);
    assert.equal(run.env!.BASE_REF, '${{ github.base_ref }}');
  });
});
