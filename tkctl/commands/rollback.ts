import { DeployError } from '../../components/errors.js';
import { JSON_OPTION, parseCommandArgs } from '../args.js';
import { guarded, line, progress, writeJson, type TkctlIo } from '../io.js';
import { openProject, pulumiError, resolveStackName, selectExistingStack } from '../pulumi-workspace.js';
import { recordedRun } from '../pulumi-run.js';

export const ROLLBACK_HELP = `Usage: tkctl rollback [--to <release>] [--stack <name>] [--json]
       tkctl rollback --clear [--stack <name>]

Makes a kept release live again through \`pulumi up\`, so the stack outputs always name what
serves (README "What pulumi up does", item 3): pins release.rollbackTo to --to <release>, or
to the previous release (the previousVersion stack output), then runs up. The parked slot
takes traffic back in seconds, through the same gate, switch and verification, without
migrations. If the database was migrated since that release, the output says how to restore
the snapshot (tkctl restore). No CI check: a rollback goes back to something that ran.
--clear removes the pin (no up): the next tkctl up releases the checked-out commit again.

Options:
  -s, --stack <name>  the stack (default: the selected one)
      --to <release>  the release id to serve (tkctl status lists live and previous)
      --clear         remove the pin instead
      --json          print {"stack", "to", "result", "durationMs", "release"}
  -h, --help          this text`;

const PIN_KEY = 'release.rollbackTo';

export async function rollbackCommand(argv: string[], io: TkctlIo): Promise<number> {
  return guarded(io, async () => {
    const { values } = parseCommandArgs(argv, { name: 'rollback', options: { ...JSON_OPTION, to: { type: 'string' }, clear: { type: 'boolean' } } });
    if (values.help) return void line(io.stdout, ROLLBACK_HELP);
    if (values.clear && values.to) throw new DeployError('--clear and --to exclude each other', 'tkctl rollback --to <release>, or tkctl rollback --clear');
    const project = await openProject(io.cwd);
    const stackName = await resolveStackName(project, values.stack);
    const stack = await selectExistingStack(project, stackName);
    const fail = (what: string) => (error: unknown) => {
      throw pulumiError(what, error, `pulumi config --stack ${stackName} shows the config; check PULUMI_CONFIG_PASSPHRASE`);
    };
    if (values.clear) {
      await stack.removeConfig(PIN_KEY, true).catch(fail(`Cannot remove ${PIN_KEY}`));
      if (values.json) return void writeJson(io, { stack: stackName, cleared: true });
      return void line(io.stdout, `${PIN_KEY} removed from stack ${stackName}: the next tkctl up releases the checked-out commit`);
    }
    let to = values.to;
    if (!to) {
      const outputs = await stack.outputs().catch(fail('Cannot read the stack outputs'));
      const previous = outputs.previousVersion?.value;
      if (typeof previous !== 'string' || !previous) {
        throw new DeployError(`Stack ${stackName} has no previous release to roll back to`, `tkctl status --stack ${stackName} lists the kept releases; tkctl rollback --to <release>`);
      }
      to = previous;
    }
    progress(io, `pinning ${PIN_KEY}=${to} and running pulumi up --stack ${stackName}`);
    await stack.setConfig(PIN_KEY, { value: to, secret: false }, true).catch(fail(`Cannot set ${PIN_KEY}`));
    const run = await recordedRun(io, stack, stackName, 'rollback');
    if (values.json) return void writeJson(io, { stack: stackName, to, result: run.result, durationMs: run.durationMs, release: run.release });
    line(io.stdout, `stack ${stackName} rolled back: live ${run.release ?? to}; tkctl rollback --clear --stack ${stackName} releases the current commit again on the next up`);
  });
}
