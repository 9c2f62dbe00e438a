import { LocalWorkspace } from '@pulumi/pulumi/automation/index.js';
import { DeployError } from '../../components/errors.js';
import { DEPLOY_EVENTS_FILE_ENV } from '../../components/events/deploy-events.js';
import { JSON_OPTION, parseCommandArgs } from '../args.js';
import { ciStatus, CI_STATUS_ENV } from '../ci-status.js';
import { eventsFile } from '../deploy-history.js';
import { guarded, line, progress, writeJson, type TkctlIo } from '../io.js';
import { openProject, pulumiError, readStackConfig, resolveStackName, selectExistingStack } from '../pulumi-workspace.js';
import { recordedRun } from '../pulumi-run.js';
import { resolveRef, withRefCheckout } from '../ref-checkout.js';

export const UP_HELP = `Usage: tkctl up [--stack <name>] [--ref <git ref>] [--ignore-ci <reason>] [--json]

Runs \`pulumi up\` on the stack through the Automation API, progress streamed: the
infrastructure, then a release of the checked-out commit (snapshot, migrations, health gate,
switch; see README "What pulumi up does"). Every run is recorded in
.trapperkeeper/deployments/<stack>.jsonl: who, when, commit (and --ref), result, live release,
duration.

--ref <ref> deploys that commit (a tag, a branch, a sha) instead of the checked-out one: it is
checked out in a temporary git worktree, which is removed afterwards whatever happens. The
program, the release code and the app image are the ref's; the stack's config
(Pulumi.<stack>.yaml, .env.<stack>) is yours, from this folder. node_modules is this folder's
when the ref's package-lock.json is the same, else npm ci runs in the worktree.

It deploys only a commit CI passed: ${CI_STATUS_ENV}=success in the environment (a CI job
deploying what it just tested; it speaks for the checked-out commit only), or a git note
"success" on the commit under refs/notes/ci (CI writes it; git fetch origin
refs/notes/ci:refs/notes/ci). A dirty working tree is never green (without --ref).
--ignore-ci <reason> deploys anyway and records the reason.

Options:
  -s, --stack <name>      the stack (default: the selected one)
      --ref <git ref>     deploy this commit instead of the checked-out one
      --ignore-ci <why>   deploy without a green CI status; the reason goes into the history
      --json              print {"stack", "result", "durationMs", "release", "outputs"} (and "ref", "commit")
  -h, --help              this text`;

export async function upCommand(argv: string[], io: TkctlIo): Promise<number> {
  return guarded(io, async () => {
    const { values } = parseCommandArgs(argv, { name: 'up', options: { ...JSON_OPTION, 'ignore-ci': { type: 'string' }, ref: { type: 'string' } } });
    if (values.help) return void line(io.stdout, UP_HELP);
    const override = values['ignore-ci']?.trim();
    if (values['ignore-ci'] !== undefined && !override) throw new DeployError('--ignore-ci needs a reason', 'tkctl up --ignore-ci "hotfix for the outage, CI is down"');
    const ref = values.ref?.trim();
    if (values.ref !== undefined && !ref) throw new DeployError('--ref needs a git ref', 'tkctl up --ref v1.4.0 (a tag, a branch or a commit)');
    const target = ref ? { ref, commit: resolveRef(io.cwd, ref) } : undefined;
    const ci = ciStatus(io.cwd, process.env, target ? { commit: target.commit } : {});
    const what = target ? `${target.ref} (${target.commit.slice(0, 12)})` : 'the commit to deploy';
    if (!ci.green && !override) {
      throw new DeployError(
        `CI is not green for ${what}: ${ci.detail}`,
        `wait for CI (or fetch its status: git fetch origin refs/notes/ci:refs/notes/ci), or deploy anyway: tkctl up${target ? ` --ref ${target.ref}` : ''} --ignore-ci "<reason>"`,
      );
    }
    progress(io, ci.green ? `CI: ${ci.detail}` : `CI: ${ci.detail}; deploying anyway (--ignore-ci: ${override})`);
    const project = await openProject(io.cwd);
    const stackName = await resolveStackName(project, values.stack);
    const stack = await selectExistingStack(project, stackName);
    const pin = readStackConfig(project, stackName).get('trapperkeeper:release')?.value;
    const rollbackTo = pin ? (JSON.parse(pin) as { rollbackTo?: string }).rollbackTo : undefined;
    if (rollbackTo) progress(io, `release.rollbackTo is set: up keeps ${rollbackTo} live; tkctl rollback --clear --stack ${stackName} releases ${target ? target.ref : 'this commit'} again`);
    const extra = override && !ci.green ? { ciOverride: override } : {};

    if (!target) {
      progress(io, `pulumi up --stack ${stackName}`);
      const run = await recordedRun(io, stack, stackName, 'up', extra);
      if (values.json) return void writeJson(io, { stack: stackName, ...run });
      return void line(io.stdout, `stack ${stackName} is up: live ${run.release ?? 'unknown'}`);
    }

    const run = await withRefCheckout(io, { ...target, stack: stackName }, async (checkout) => {
      const atRef = await LocalWorkspace.selectStack(
        { stackName, workDir: checkout.dir },
        {
          pulumiCommand: project.workspace.pulumiCommand,
          // The release's events belong to this folder's log, not to the worktree that goes away.
          envVars: { ...project.workspace.envVars, [DEPLOY_EVENTS_FILE_ENV]: eventsFile(io.cwd, stackName) },
        },
      ).catch((error: unknown) => {
        throw pulumiError(`Cannot select stack ${stackName} in the worktree of ${target.ref}`, error, `check that ${target.ref}'s Pulumi.yaml names the same project (pulumi stack ls there)`);
      });
      progress(io, `pulumi up --stack ${stackName} at ${target.ref}`);
      return recordedRun(io, atRef, stackName, 'up', { ...extra, ref: target });
    });
    if (values.json) return void writeJson(io, { stack: stackName, ref: target.ref, commit: target.commit, ...run });
    line(io.stdout, `stack ${stackName} is up at ${target.ref} (${target.commit.slice(0, 12)}): live ${run.release ?? 'unknown'}`);
  });
}
