import { spawnSync } from 'node:child_process';
import { LocalWorkspace } from '@pulumi/pulumi/automation/index.js';
import { DeployError } from '../../components/errors.js';
import { CONFIG_NAMESPACE } from '../../providers/config.js';
import { SECRET_NAMES, STACK_SECRETS, type SecretName } from '../../providers/stack-secrets.js';
import { JSON_OPTION, parseCommandArgs } from '../args.js';
import { guarded, line, progress, writeJson, type TkctlIo } from '../io.js';
import { openProject, pulumiError, readStackConfig, resolveStackName, type ProjectWorkspace } from '../pulumi-workspace.js';
import { generateSecret } from '../secret-generators.js';

export const INIT_HELP = `Usage: tkctl init [--stack <name>] [--json]

Creates the stack when it does not exist, then generates every secret the stack config needs
(${SECRET_NAMES.join(', ')}) and stores each as a Pulumi secret of that stack.
A secret already set is kept: init never overwrites one (rotate by hand with pulumi config set
--secret). No value is ever printed. Run it again at any time: it only fills in what is missing.

Options:
  -s, --stack <name>  the stack (default: the selected one; required when none is selected)
      --json          print {"stack", "created", "secrets": {<key>: "generated"|"kept"}}
  -h, --help          this text`;

type SecretOutcome = 'generated' | 'kept';

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

    const existing = new Map([...readStackConfig(project, stackName)].map(([key, entry]) => [key, entry.secret]));
    const plaintext = SECRET_NAMES.filter((name) => existing.get(fullKey(name)) === false);
    if (plaintext.length > 0) {
      throw new DeployError(
        `${plaintext.join(', ')} ${plaintext.length > 1 ? 'are' : 'is'} stored in plain text in Pulumi.${stackName}.yaml; init will not overwrite ${plaintext.length > 1 ? 'them' : 'it'}`,
        `${plaintext.map((name) => `pulumi config rm ${STACK_SECRETS[name].configKey} -s ${stackName}`).join(' && ')} && tkctl init --stack ${stackName}  # the old value is in your history: replace it`,
      );
    }

    const outcome: Partial<Record<SecretName, SecretOutcome>> = {};
    for (const name of SECRET_NAMES) {
      if (existing.has(fullKey(name))) {
        outcome[name] = 'kept';
        progress(io, `  ${STACK_SECRETS[name].configKey}: already set, kept`);
        continue;
      }
      setSecret(project, stackName, STACK_SECRETS[name].configKey, generateSecret(name));
      outcome[name] = 'generated';
      progress(io, `  ${STACK_SECRETS[name].configKey}: generated (secret)`);
    }
    if (values.json) writeJson(io, { stack: stackName, created, secrets: outcome });
    else line(io.stdout, `stack ${stackName} ready: ${Object.values(outcome).filter((o) => o === 'generated').length} secret(s) generated, ${Object.values(outcome).filter((o) => o === 'kept').length} kept`);
  });
}

function fullKey(name: SecretName): string {
  return `${CONFIG_NAMESPACE}:${STACK_SECRETS[name].configKey}`;
}

async function stackExists(project: ProjectWorkspace, stackName: string): Promise<boolean> {
  const stacks = await project.workspace.listStacks().catch((error: unknown) => {
    throw pulumiError('Cannot list the stacks', error, 'pulumi login (or set PULUMI_BACKEND_URL), and PULUMI_CONFIG_PASSPHRASE for a passphrase backend');
  });
  return stacks.some((stack) => stack.name.split('/').at(-1) === stackName);
}

/** `pulumi config set --secret`, the value on stdin: never on a command line `ps` could show. */
function setSecret(project: ProjectWorkspace, stackName: string, key: string, value: string): void {
  const result = spawnSync(project.cli, ['config', 'set', '--secret', '--stack', stackName, key], {
    cwd: project.dir,
    input: value,
    encoding: 'utf8',
    env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: 'true' },
  });
  if (result.status !== 0) throw pulumiError(`Cannot store ${key} in stack ${stackName}`, { stderr: result.stderr }, 'check PULUMI_CONFIG_PASSPHRASE (or the stack\'s secrets provider)');
}
