import { JSON_OPTION, parseCommandArgs } from '../args.js';
import { guarded, line, progress, writeJson, type TkctlIo } from '../io.js';
import { openProject, pulumiError, resolveStackName, selectExistingStack } from '../pulumi-workspace.js';
import { streamTo } from '../pulumi-run.js';

export const PREVIEW_HELP = `Usage: tkctl preview [--stack <name>] [--json]

What \`tkctl up\` would change (\`pulumi preview\` through the Automation API), progress
streamed on stderr. Changes nothing; needs no green CI.

Options:
  -s, --stack <name>  the stack (default: the selected one)
      --json          print {"stack", "changeSummary"} ({"create": 3, "update": 1, "same": 9, ...})
  -h, --help          this text`;

export async function previewCommand(argv: string[], io: TkctlIo): Promise<number> {
  return guarded(io, async () => {
    const { values } = parseCommandArgs(argv, { name: 'preview', options: JSON_OPTION });
    if (values.help) return void line(io.stdout, PREVIEW_HELP);
    const project = await openProject(io.cwd);
    const stackName = await resolveStackName(project, values.stack);
    const stack = await selectExistingStack(project, stackName);
    progress(io, `pulumi preview --stack ${stackName}`);
    const preview = await stack.preview(streamTo(io)).catch((error: unknown) => {
      throw pulumiError(`pulumi preview of stack ${stackName} failed`, error, `fix what the output above names (for config problems, the pulumi config line it prints), then tkctl preview --stack ${stackName}`);
    });
    if (values.json) return void writeJson(io, { stack: stackName, changeSummary: preview.changeSummary });
    const changes = Object.entries(preview.changeSummary).filter(([kind, count]) => kind !== 'same' && (count ?? 0) > 0);
    line(io.stdout, changes.length === 0 ? `stack ${stackName}: no changes` : `stack ${stackName}: ${changes.map(([kind, count]) => `${count} to ${kind}`).join(', ')}`);
  });
}
