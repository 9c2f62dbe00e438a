import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { LocalWorkspace, Stack } from '@pulumi/pulumi/automation/index.js';
import { DeployError } from '../components/errors.js';

/** The repository root (where scripts/pulumi-cli.sh lives), whatever the project folder is. */
export const TOOLKIT_ROOT = resolve(import.meta.dirname, '..');

/**
 * The Pulumi CLI tkctl drives: TK_PULUMI_CLI, a `pulumi` on PATH, or the one
 * scripts/pulumi-cli.sh built earlier (it never builds here: that takes minutes).
 */
export function findPulumiCli(): string {
  const found = spawnSync('bash', [join(TOOLKIT_ROOT, 'scripts/pulumi-cli.sh'), '--no-build'], { encoding: 'utf8' });
  const path = found.status === 0 ? found.stdout.trim() : '';
  if (!path) {
    throw new DeployError(
      'No Pulumi CLI found (not in TK_PULUMI_CLI, not on PATH, not built by scripts/pulumi-cli.sh)',
      'install it (https://www.pulumi.com/docs/install/) or build one: bash scripts/pulumi-cli.sh',
    );
  }
  return path;
}

/**
 * The Automation API, loaded by the first command that drives the engine: it takes a second to
 * load, which a rollback spends moving traffic instead (commands/rollback.ts).
 */
function automation() {
  return import('@pulumi/pulumi/automation/index.js');
}

/** The selected stack's short name, from the CLI alone (no Automation API); undefined when none is selected. */
export function selectedStackName(cli: string, dir: string): string | undefined {
  const result = spawnSync(cli, ['stack', '--show-name'], { cwd: dir, encoding: 'utf8', env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: 'true' } });
  const name = result.status === 0 ? result.stdout.trim() : '';
  return name ? shortStackName(name) : undefined;
}

export interface ProjectWorkspace {
  workspace: LocalWorkspace;
  /** Path of the pulumi binary, for the few calls the Automation API cannot make safely (stdin). */
  cli: string;
  dir: string;
}

/** A LocalWorkspace on the Pulumi project in `dir` (its Pulumi.yaml), with the environment's backend and passphrase. */
export async function openProject(dir: string): Promise<ProjectWorkspace> {
  if (!existsSync(join(dir, 'Pulumi.yaml'))) {
    throw new DeployError(`No Pulumi.yaml in ${dir}`, 'run tkctl from the repository root (the folder with Pulumi.yaml)');
  }
  const cli = findPulumiCli();
  const { LocalWorkspace, PulumiCommand } = await automation();
  const pulumiCommand = await PulumiCommand.get({ root: dirname(dirname(cli)), skipVersionCheck: true });
  const workspace = await LocalWorkspace.create({
    workDir: dir,
    pulumiCommand,
    envVars: { PULUMI_SKIP_UPDATE_CHECK: 'true' },
  });
  return { workspace, cli, dir };
}

/** `--stack`, else the selected stack (`pulumi stack select`); a short name either way. */
export async function resolveStackName(project: ProjectWorkspace, requested: string | undefined): Promise<string> {
  if (requested) return requested;
  const selected = await project.workspace.stack().catch((error: unknown) => {
    throw pulumiError('Cannot read the selected stack', error, 'pulumi login (or set PULUMI_BACKEND_URL), then pulumi stack select <name>');
  });
  if (!selected) throw new DeployError('No stack selected and no --stack given', 'pass --stack <name>, or pulumi stack select <name>');
  return shortStackName(selected.name);
}

/** `organization/trapperkeeper/dev` -> `dev`; the program and the release use the short name. */
export function shortStackName(name: string): string {
  return name.split('/').at(-1) ?? name;
}

/** The existing stack, or a DeployError with `missingFix` (by default: how to create it). */
export async function selectExistingStack(project: ProjectWorkspace, stackName: string, missingFix = `tkctl init --stack ${stackName}`): Promise<Stack> {
  const stacks = await project.workspace.listStacks().catch((error: unknown) => {
    throw pulumiError('Cannot list the stacks', error, 'pulumi login (or set PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE)');
  });
  if (!stacks.some((stack) => shortStackName(stack.name) === stackName)) {
    throw new DeployError(`Stack ${stackName} does not exist in this backend`, missingFix);
  }
  const { LocalWorkspace } = await automation();
  return LocalWorkspace.selectStack({ stackName, workDir: project.dir }, { pulumiCommand: project.workspace.pulumiCommand, envVars: project.workspace.envVars });
}

export interface ConfigEntry {
  /** Absent for secrets: they are never decrypted here. */
  value?: string;
  secret: boolean;
}

/** The stack's config keys (`trapperkeeper:...`) and their plain values; secrets stay encrypted. */
export function readStackConfig(project: ProjectWorkspace, stackName: string): Map<string, ConfigEntry> {
  const result = spawnSync(project.cli, ['config', '--json', '--stack', stackName], { cwd: project.dir, encoding: 'utf8', env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: 'true' } });
  if (result.status !== 0) throw pulumiError(`Cannot read the config of stack ${stackName}`, { stderr: result.stderr }, "check PULUMI_CONFIG_PASSPHRASE (or the stack's secrets provider)");
  const config = JSON.parse(result.stdout || '{}') as Record<string, { value?: unknown; secret?: boolean }>;
  return new Map(
    Object.entries(config).map(([key, entry]) => [key, { secret: entry.secret === true, ...(entry.secret || entry.value === undefined ? {} : { value: String(entry.value) }) }]),
  );
}

/** A DeployError from a failed Pulumi CLI call: its last stderr lines, never its command line (which may hold a value). */
export function pulumiError(what: string, error: unknown, fix: string): DeployError {
  const err = error as { stderr?: string; message?: string };
  const detail = (err.stderr || err.message || String(error)).trim().split('\n').filter(Boolean).slice(-3).join(' | ');
  return new DeployError(`${what}: ${detail}`, fix);
}
