/**
 * The release command as `pulumi up` last ran it, read back from the stack's state: the command
 * line and the environment the engine gave it (the release plan, the secrets, the notification
 * sinks). `tkctl rollback` runs that same command with TK_ROLLBACK_TO to move traffic within
 * seconds, then records the rollback through `pulumi up`, whose release finds the pinned release
 * already live and changes nothing but the stack outputs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { DeployError } from '../components/errors.js';
import { ROLLBACK_TO_ENV } from '../providers/release-command-line.js';
import type { TkctlIo } from './io.js';
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
export function readRecordedStack(cli: string, dir: string, stackName: string): RecordedStack {
  const result = spawnSync(cli, ['stack', 'export', '--show-secrets', '--stack', stackName], {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: 'true' },
  });
  if (result.status !== 0) {
    if (/no stack named/i.test(result.stderr)) throw new DeployError(`Stack ${stackName} does not exist in this backend`, `tkctl init --stack ${stackName}`);
    throw pulumiError(`Cannot read the state of stack ${stackName}`, { stderr: result.stderr }, 'pulumi login (or set PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE)');
  }
  return recordedStackOf(JSON.parse(result.stdout));
}

export interface ReleaseSummary {
  liveSlot: string;
  liveRelease: string;
  previousRelease: string | null;
}

/**
 * Runs the recorded release command with TK_ROLLBACK_TO in the project folder, its progress
 * streamed to stderr, and returns the summary it prints; a failure is a DeployError (what
 * served keeps serving: a release that fails never leaves traffic on a half-checked slot).
 */
export function rollBackWithRecordedRelease(io: TkctlIo, release: RecordedRelease, to: string, stackName: string): Promise<ReleaseSummary> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', release.command], {
      cwd: io.cwd,
      env: { ...process.env, ...release.environment, [ROLLBACK_TO_ENV]: to },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => io.stderr.write(chunk));
    child.on('error', (error) => reject(new DeployError(`Cannot start the release process (${release.command}): ${error.message}`, 'npm ci in the project folder, then tkctl rollback again')));
    child.on('close', (code, signal) => {
      const summaryLine = stdout.trim().split('\n').at(-1) ?? '';
      if (code === 0) {
        try {
          return resolve(JSON.parse(summaryLine) as ReleaseSummary);
        } catch {
          return reject(new Error(`the release process printed no summary line: ${summaryLine.slice(0, 200)}`));
        }
      }
      reject(
        new DeployError(
          `The rollback of stack ${stackName} to ${to} failed (release process ${signal ? `killed by ${signal}` : `exited ${code}`}); the release that served before still serves`,
          `the lines above say which step failed; tkctl status --stack ${stackName}`,
        ),
      );
    });
  });
}
