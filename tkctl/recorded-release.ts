/**
 * The release command as `pulumi up` last ran it, read back from the stack's state: the command
 * line and the environment the engine gave it (the release plan, the secrets, the notification
 * sinks). `tkctl rollback` runs that release, in its own process, with TK_ROLLBACK_TO to move
 * traffic within seconds, then records the rollback through `pulumi up`, whose release finds the
 * pinned release already live and changes nothing but the stack outputs.
 */
import { spawn } from 'node:child_process';
import { DeployError } from '../components/errors.js';
import type { ReleaseSummary } from '../components/release/pipeline.js';
import { ROLLBACK_TO_ENV } from '../providers/release-command-line.js';
import { line, type TkctlIo } from './io.js';
import { pulumiError } from './pulumi-workspace.js';

/** How `pulumi stack export --show-secrets` marks a secret value (its plaintext is JSON). */
const SECRET_SIGNATURE = '4dabf18193072939515e22adb298388d';
const RELEASE_RESOURCE_TYPE = 'command:local:Command';
/** Every target names its release command `<component>-release` (providers/<target>/target.ts). */
const RELEASE_RESOURCE_SUFFIX = '-release';

export interface RecordedRelease {
  command: string;
  /** Holds secret values: passed to the release process only, never printed. */
  environment: Record<string, string>;
}

export interface RecordedStack {
  /** The stack outputs of the last update (liveVersion, previousVersion, ...). */
  outputs: Record<string, unknown>;
  /** Absent before the first successful release (or in a state no release command wrote). */
  release?: RecordedRelease;
}

interface ExportedResource {
  urn: string;
  type: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

/** Secret envelopes replaced by their values, recursively. */
function revealed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revealed);
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (SECRET_SIGNATURE in record && typeof record.plaintext === 'string') return revealed(JSON.parse(record.plaintext));
    return Object.fromEntries(Object.entries(record).map(([key, inner]) => [key, revealed(inner)]));
  }
  return value;
}

/** Pure: the stack outputs and the release command of an exported deployment. */
export function recordedStackOf(exported: unknown): RecordedStack {
  const resources = ((exported as { deployment?: { resources?: ExportedResource[] } }).deployment?.resources ?? []) as ExportedResource[];
  const stackResource = resources.find((resource) => resource.type === 'pulumi:pulumi:Stack');
  const outputs = (revealed(stackResource?.outputs ?? {}) ?? {}) as Record<string, unknown>;
  const releaseResource = resources.find((resource) => resource.type === RELEASE_RESOURCE_TYPE && resource.urn.endsWith(RELEASE_RESOURCE_SUFFIX));
  const inputs = releaseResource ? (revealed(releaseResource.inputs ?? {}) as Record<string, unknown>) : {};
  const command = typeof inputs.create === 'string' ? inputs.create : undefined;
  const environment = inputs.environment && typeof inputs.environment === 'object' ? (inputs.environment as Record<string, unknown>) : undefined;
  if (!command || !environment) return { outputs };
  return { outputs, release: { command, environment: Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, String(value)])) } };
}

/** `pulumi stack export --show-secrets`, read without the Automation API (it takes a second to load). */
export function readRecordedStack(cli: string, dir: string, stackName: string): Promise<RecordedStack> {
  return new Promise((resolve, reject) => {
    const child = spawn(cli, ['stack', 'export', '--show-secrets', '--stack', stackName], {
      cwd: dir,
      env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', (error) => reject(pulumiError(`Cannot start the Pulumi CLI (${cli})`, error, 'install the Pulumi CLI (https://www.pulumi.com/docs/install/) or put it on PATH')));
    child.on('close', (code) => {
      if (code === 0) return resolve(recordedStackOf(JSON.parse(Buffer.concat(stdout).toString('utf8'))));
      if (/no stack named/i.test(stderr)) return reject(new DeployError(`Stack ${stackName} does not exist in this backend`, `tkctl init --stack ${stackName}`));
      reject(pulumiError(`Cannot read the state of stack ${stackName}`, { stderr }, 'pulumi login (or set PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE)'));
    });
  });
}

/**
 * The release with the recorded environment and TK_ROLLBACK_TO, run in this process (the code
 * the recorded command runs: providers/release-deploy.ts), its progress on stderr; returns the
 * stack outputs it leaves. A failure is a DeployError: what served keeps serving, since a
 * release that fails never leaves traffic on a half-checked slot.
 */
export async function rollBackWithRecordedRelease(io: TkctlIo, release: RecordedRelease, to: string, stackName: string): Promise<ReleaseSummary> {
  const { deployFromEnvironment } = await loadReleaseDeploy();
  try {
    const outcome = await deployFromEnvironment({ ...process.env, ...release.environment, [ROLLBACK_TO_ENV]: to }, { progress: io.stderr, dir: io.cwd });
    if (outcome.migrationWarning) line(io.stderr, `warning: ${outcome.migrationWarning}`);
    return outcome;
  } catch (error) {
    if (!(error instanceof DeployError)) throw error;
    throw new DeployError(
      `The rollback of stack ${stackName} to ${to} failed (the release that served before still serves): ${error.problem}`,
      error.fix ?? `the lines above say which step failed; tkctl status --stack ${stackName}`,
    );
  }
}

/** Started while the Pulumi CLI reads the state, so the release's modules are loaded by the time it is read. */
export function loadReleaseDeploy(): Promise<typeof import('../providers/release-deploy.js')> {
  releaseDeploy ??= import('../providers/release-deploy.js');
  return releaseDeploy;
}
let releaseDeploy: Promise<typeof import('../providers/release-deploy.js')> | undefined;
