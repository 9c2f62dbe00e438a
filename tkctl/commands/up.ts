import { DeployError } from '../../components/errors.js';
import { JSON_OPTION, parseCommandArgs } from '../args.js';
import { ciStatus, CI_STATUS_ENV } from '../ci-status.js';
import { guarded, line, progress, writeJson, type TkctlIo } from '../io.js';
import { openProject, readStackConfig, resolveStackName, selectExistingStack } from '../pulumi-workspace.js';
import { recordedRun } from '../pulumi-run.js';

export const UP_HELP = `Usage: tkctl up [--stack <name>] [--ignore-ci <reason>] [--json]

Runs \`pulumi up\` on the stack through the Automation API, progress streamed: the
infrastructure, then a release of the checked-out commit (snapshot, migrations, health gate,
switch; see README "What pulumi up does"). Every run is recorded in
.trapperkeeper/deployments/<stack>.jsonl: who, when, commit, result, live release, duration.

It deploys only a commit CI passed: ${CI_STATUS_ENV}=success in the environment (a CI job
deploying what it just tested), or a git note "success" on HEAD under refs/notes/ci (CI writes
it; git fetch origin refs/notes/ci:refs/notes/ci). A dirty working tree is never green.
--ignore-ci <reason> deploys anyway and records the reason.

Options:
  -s, --stack <name>      the stack (default: the selected one)
      --ignore-ci <why>   deploy without a green CI status; the reason goes into the history
      --json              print {"stack", "result", "durationMs", "release", "outputs"}
  -h, --help              this text`;

export async function upCommand(argv: string[], io: TkctlIo): Promise<number> {
  return guarded(io, async () => {
    const { values } = parseCommandArgs(argv, { name: 'up', options: { ...JSON_OPTION, 'ignore-ci': { type: 'string' } } });
    if (values.help) return void line(io.stdout, UP_HELP);
    const override = values['ignore-ci']?.trim();
    if (values['ignore-ci'] !== undefined && !override) throw new DeployError('--ignore-ci needs a reason', 'tkctl up --ignore-ci "hotfix for the outage, CI is down"');
    const ci = ciStatus(io.cwd);
    if (!ci.green && !override) {
      throw new DeployError(
        `CI is not green for the commit to deploy: ${ci.detail}`,
        `wait for CI (or fetch its status: git fetch origin refs/notes/ci:refs/notes/ci), or deploy anyway: tkctl up --ignore-ci "<reason>"`,
      );
    }
    progress(io, ci.green ? `CI: ${ci.detail}` : `CI: ${ci.detail}; deploying anyway (--ignore-ci: ${override})`);
    const project = await openProject(io.cwd);
    const stackName = await resolveStackName(project, values.stack);
    const stack = await selectExistingStack(project, stackName);
    const pin = readStackConfig(project, stackName).get('trapperkeeper:release')?.value;
    const rollbackTo = pin ? (JSON.parse(pin) as { rollbackTo?: string }).rollbackTo : undefined;
    if (rollbackTo) progress(io, `release.rollbackTo is set: up keeps ${rollbackTo} live; tkctl rollback --clear --stack ${stackName} releases this commit again`);
    progress(io, `pulumi up --stack ${stackName}`);
    const run = await recordedRun(io, stack, stackName, 'up', override && !ci.green ? { ciOverride: override } : {});
    if (values.json) return void writeJson(io, { stack: stackName, ...run });
    line(io.stdout, `stack ${stackName} is up: live ${run.release ?? 'unknown'}`);
  });
}
