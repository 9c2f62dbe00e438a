import { LocalWorkspace } from '@pulumi/pulumi/automation/index.js';
import { DeployError } from '../../components/errors.js';
import { JSON_OPTION, parseCommandArgs } from '../args.js';
import { guarded, line, progress, writeJson, type TkctlIo } from '../io.js';
import { openProject, pulumiError, resolveStackName } from '../pulumi-workspace.js';
import { GENERATED_SECRETS } from '../secret-generators.js';
import { fillStackSecrets, stackExists } from '../stack-secrets.js';

export const INIT_HELP = `Usage: tkctl init [--stack <name>] [--json]

Creates the stack when it does not exist, then generates every secret the stack config needs
(${GENERATED_SECRETS.join(', ')}; Grafana's is used once monitoring.enabled is set) and stores
each as a Pulumi secret of that stack.
A secret already set is kept: init never overwrites one (rotate by hand with pulumi config set
--secret). No value is ever printed. Run it again at any time: it only fills in what is missing.

Options:
  -s, --stack <name>  the stack (default: the selected one; required when none is selected)
      --json          print {"stack", "created", "secrets": {<key>: "generated"|"kept"}}
  -h, --help          this text`;

export async function initCommand(argv: string[], io: TkctlIo): Promise<number> {
  return guarded(io, async () => {
    const { values } = parseCommandArgs(argv, { name: 'init', options: JSON_OPTION });
    if (values.help) return void line(io.stdout, INIT_HELP);
    const project = await openProject(io.cwd);
    const stackName = await resolveStackName(project, values.stack).catch((error: unknown) => {
      if (error instanceof DeployError && !values.stack) throw new DeployError('No stack selected', 'tkctl init --stack <name> creates one');
      throw error;
    });

    const created = !(await stackExists(project, stackName));
    progress(io, created ? `creating stack ${stackName}` : `stack ${stackName} exists`);
    await LocalWorkspace.createOrSelectStack(
      { stackName, workDir: project.dir },
      { pulumiCommand: project.workspace.pulumiCommand, envVars: project.workspace.envVars },
    ).catch((error: unknown) => {
      throw pulumiError(`Cannot create or select stack ${stackName}`, error, 'pulumi login (or set PULUMI_BACKEND_URL), and PULUMI_CONFIG_PASSPHRASE for a passphrase backend');
    });

    const outcome = fillStackSecrets(io, project, stackName);
    if (values.json) writeJson(io, { stack: stackName, created, secrets: outcome });
    else line(io.stdout, `stack ${stackName} ready: ${Object.values(outcome).filter((o) => o === 'generated').length} secret(s) generated, ${Object.values(outcome).filter((o) => o === 'kept').length} kept`);
  });
}
