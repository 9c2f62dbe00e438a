import { DeployError } from '../../components/errors.js';
import { JSON_OPTION, parseCommandArgs } from '../args.js';
import { confirmByTyping } from '../confirm.js';
import { guarded, line, progress, writeJson, type TkctlIo } from '../io.js';
import { productionMarker } from '../production-marker.js';
import { openProject, pulumiError, readStackConfig, resolveStackName, selectExistingStack } from '../pulumi-workspace.js';
import { recordedRun } from '../pulumi-run.js';

export const DESTROY_HELP = `Usage: tkctl destroy [--stack <name>] [--remove] [--force [--confirm <stack>]] [--json]

Runs \`pulumi destroy\` on the stack (Automation API, progress streamed): both slots, Caddy,
PostgreSQL and the network go; data volumes stay unless the stack is ephemeral (README "What
pulumi up does", item 4). The run is recorded in .trapperkeeper/deployments/<stack>.jsonl.
--remove then removes the stack itself (pulumi stack rm: its state, history in the backend and
Pulumi.<stack>.yaml), as for a PR stack that is done; only after the destroy succeeded.

A production stack (config production: true, as in Pulumi.prod.yaml; or named prod / prod-*)
is refused unless --force is given AND the stack name is typed at the prompt (or passed as
--confirm <stack> by a person's script; CI workflows never destroy production stacks).

Options:
  -s, --stack <name>     the stack (default: the selected one)
      --remove           also remove the stack once it is destroyed (pulumi stack rm)
      --force            allow destroying a production stack (still asks for the name)
      --confirm <stack>  the typed confirmation, without a prompt
      --json             print {"stack", "result", "durationMs", "removed"}
  -h, --help             this text`;

export async function destroyCommand(argv: string[], io: TkctlIo): Promise<number> {
  return guarded(io, async () => {
    const { values } = parseCommandArgs(argv, { name: 'destroy', options: { ...JSON_OPTION, force: { type: 'boolean' }, confirm: { type: 'string' }, remove: { type: 'boolean' } } });
    if (values.help) return void line(io.stdout, DESTROY_HELP);
    const project = await openProject(io.cwd);
    const stackName = await resolveStackName(project, values.stack);
    // Nothing to destroy: creating the stack (the usual fix) would be the opposite of what was asked.
    const stack = await selectExistingStack(project, stackName, `nothing to destroy; pulumi stack ls lists this backend's stacks (is PULUMI_BACKEND_URL the one ${stackName} was deployed from?)`);
    const marker = productionMarker(stackName, readStackConfig(project, stackName));
    if (marker) {
      if (!values.force) {
        throw new DeployError(`Refusing to destroy stack ${stackName}: it is a production stack (${marker})`, `tkctl destroy --stack ${stackName} --force  # then type ${stackName} when asked`);
      }
      await confirmByTyping(io, {
        what: `Destroying production stack ${stackName} stops what serves its users.`,
        expected: stackName,
        ...(values.confirm !== undefined ? { given: values.confirm } : {}),
        retry: `tkctl destroy --stack ${stackName} --force  # and type ${stackName} when asked`,
      });
    }
    progress(io, `pulumi destroy --stack ${stackName}`);
    const run = await recordedRun(io, stack, stackName, 'destroy');
    if (values.remove) {
      progress(io, `pulumi stack rm ${stackName}`);
      // recordedRun throws on a failed destroy, so only an empty stack is removed here.
      await project.workspace.removeStack(stackName).catch((error: unknown) => {
        throw pulumiError(`Stack ${stackName} was destroyed but could not be removed`, error, `pulumi stack rm ${stackName}`);
      });
    }
    if (values.json) return void writeJson(io, { stack: stackName, result: run.result, durationMs: run.durationMs, removed: values.remove === true });
    line(
      io.stdout,
      values.remove
        ? `stack ${stackName} destroyed and removed`
        : `stack ${stackName} destroyed (the stack itself remains: tkctl destroy --stack ${stackName} --remove, or pulumi stack rm ${stackName}, removes it)`,
    );
  });
}
