import { spawnSync } from 'node:child_process';
import { DeployError } from '../components/errors.js';
import { CONFIG_NAMESPACE } from '../providers/config.js';
import { progress, type TkctlIo } from './io.js';
import { pulumiError, readStackConfig, shortStackName, type ProjectWorkspace } from './pulumi-workspace.js';
import { GENERATED_SECRETS, generateSecret, SECRET_GENERATORS, type GeneratedSecret } from './secret-generators.js';

/**
 * A stack's secrets, filled in once: every secret tkctl generates (tkctl/secret-generators.ts)
 * that the stack does not have yet is generated and stored as a
 * Pulumi secret; one already set is kept; one stored in plain text is refused. `tkctl init` and
 * `tkctl node add` both fill a stack's secrets through here.
 */
export type SecretOutcome = 'generated' | 'kept';

export async function stackExists(project: ProjectWorkspace, stackName: string): Promise<boolean> {
  const stacks = await project.workspace.listStacks().catch((error: unknown) => {
    throw pulumiError('Cannot list the stacks', error, 'pulumi login (or set PULUMI_BACKEND_URL), and PULUMI_CONFIG_PASSPHRASE for a passphrase backend');
  });
  return stacks.some((stack) => shortStackName(stack.name) === stackName);
}

/** Generates the missing secrets of an existing stack; prints each key's outcome, never a value. */
export function fillStackSecrets(io: TkctlIo, project: ProjectWorkspace, stackName: string): Record<GeneratedSecret, SecretOutcome> {
  const existing = new Map([...readStackConfig(project, stackName)].map(([key, entry]) => [key, entry.secret]));
  const plaintext = GENERATED_SECRETS.filter((name) => existing.get(fullKey(name)) === false);
  if (plaintext.length > 0) {
    throw new DeployError(
      `${plaintext.join(', ')} ${plaintext.length > 1 ? 'are' : 'is'} stored in plain text in Pulumi.${stackName}.yaml; init will not overwrite ${plaintext.length > 1 ? 'them' : 'it'}`,
      `${plaintext.map((name) => `pulumi config rm ${SECRET_GENERATORS[name].configKey} -s ${stackName}`).join(' && ')} && tkctl init --stack ${stackName}  # the old value is in your history: replace it`,
    );
  }
  const outcome = {} as Record<GeneratedSecret, SecretOutcome>;
  for (const name of GENERATED_SECRETS) {
    if (existing.has(fullKey(name))) {
      outcome[name] = 'kept';
      progress(io, `  ${SECRET_GENERATORS[name].configKey}: already set, kept`);
      continue;
    }
    setSecret(project, stackName, SECRET_GENERATORS[name].configKey, generateSecret(name));
    outcome[name] = 'generated';
    progress(io, `  ${SECRET_GENERATORS[name].configKey}: generated (secret)`);
  }
  return outcome;
}

function fullKey(name: GeneratedSecret): string {
  return `${CONFIG_NAMESPACE}:${SECRET_GENERATORS[name].configKey}`;
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
