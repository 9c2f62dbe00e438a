/**
 * What running this repository's program through the real Pulumi engine needs, and a stack of it
 * in a throwaway file:// backend: shared by the engine end-to-end test and `npm run bench:deploy`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { LocalWorkspace, PulumiCommand, type Stack } from '@pulumi/pulumi/automation/index.js';
import { freePort } from './free-port.js';
import { REPO_ROOT, TEST_IMAGES } from './images.js';

export interface EngineRequirements {
  cli?: string;
  missing: string[];
}

/** The CLI, its nodejs language host, the docker 5.2.0 and command 1.x plugins, and a Docker engine. */
export function checkEngineRequirements(): EngineRequirements {
  const found = spawnSync('bash', [join(REPO_ROOT, 'scripts/pulumi-cli.sh'), '--no-build'], { encoding: 'utf8' });
  const cli = found.status === 0 ? found.stdout.trim() : undefined;
  if (!cli) return { missing: ['the Pulumi CLI (install it, or `bash scripts/pulumi-cli.sh`)'] };
  const missing: string[] = [];
  const path = `${dirname(cli)}:${process.env.PATH}`;
  if (spawnSync('bash', ['-c', 'command -v pulumi-language-nodejs'], { env: { ...process.env, PATH: path } }).status !== 0) {
    missing.push('the nodejs language host (pulumi-language-nodejs, shipped with the official CLI)');
  }
  const listed = spawnSync(cli, ['plugin', 'ls', '--json'], { encoding: 'utf8', env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: 'true' } });
  const plugins = listed.status === 0 ? (JSON.parse(listed.stdout || '[]') as { name: string; kind: string; version: string }[]) : [];
  const has = (name: string, version: RegExp) => plugins.some((plugin) => plugin.kind === 'resource' && plugin.name === name && version.test(plugin.version));
  if (!has('docker', /^5\.2\.0$/)) missing.push('the docker 5.2.0 provider plugin (pulumi plugin install resource docker 5.2.0)');
  if (!has('command', /^1\./)) missing.push('the command 1.x provider plugin (pulumi plugin install resource command 1.2.1)');
  if (spawnSync('docker', ['info'], { stdio: 'ignore' }).status !== 0) missing.push('a Docker engine (bash scripts/offline-images.sh)');
  return { cli, missing };
}

export interface EngineStackOptions {
  cli: string;
  stackName: string;
  /** The project folder (Pulumi.yaml, index.ts). @default the repository */
  workDir?: string;
  /** The file:// backend's folder (and where the event log goes). */
  scratch: string;
  /** docker.host (e.g. ssh://user@127.0.0.1:2222). @default the local engine */
  dockerHost?: string;
  /** More environment for the CLI, the program and the release process (an SSH client's PATH and agent). */
  env?: Record<string, string>;
}

/** The environment tkctl or the CLI needs to work on a stack made by createEngineStack. */
export function engineStackEnv(options: EngineStackOptions): Record<string, string> {
  return {
    PULUMI_BACKEND_URL: `file://${options.scratch}`,
    PULUMI_CONFIG_PASSPHRASE: 'engine-e2e',
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    // The project depends on @pulumi/aws and @pulumi/gcp, so every up makes sure their plugins are
    // installed. A machine with network downloads them once; this one cannot, and each up spent
    // about 2.5 s retrying the downloads. A Docker stack never starts either plugin.
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
    TK_DEPLOY_EVENTS_FILE: join(options.scratch, 'events.jsonl'),
    ...options.env,
  };
}

/**
 * An ephemeral stack of the program on the local engine with the local base images, ports on
 * 127.0.0.1 and generated secrets; the caller destroys it (`removeEngineStack`).
 */
export async function createEngineStack(options: EngineStackOptions): Promise<Stack> {
  const pulumiCommand = await PulumiCommand.get({ root: dirname(dirname(options.cli)), skipVersionCheck: true });
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: options.stackName, workDir: options.workDir ?? REPO_ROOT },
    {
      pulumiCommand,
      envVars: engineStackEnv(options),
    },
  );
  const [http, grpc] = [await freePort(), await freePort()];
  await stack.setAllConfig({
    provider: { value: 'docker' },
    ephemeral: { value: 'true' },
    postgresPassword: { value: `pw-${process.pid}-${Date.now()}`, secret: true },
    hmacSecret: { value: `${'a1'.repeat(16)}:${Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256)).toString('base64')}`, secret: true },
  });
  for (const [key, value] of Object.entries({
    'docker.bindAddress': '127.0.0.1',
    'docker.ports.http': String(http),
    'docker.ports.grpc': String(grpc),
    'docker.images.postgres': TEST_IMAGES.postgres,
    'docker.images.caddy': TEST_IMAGES.caddy,
    'docker.images.appBuildBase': 'tk-offline/node:20-build',
    'docker.images.appRuntimeBase': 'tk-offline/node:20',
    'release.allowDirty': 'true',
    ...(options.dockerHost ? { 'docker.host': options.dockerHost } : {}),
  })) {
    await stack.setConfig(key, { value }, true);
  }
  return stack;
}

/** Destroys the stack, removes it and its stack file, and the images it built (destroy keeps those, as on a real host). */
export async function removeEngineStack(stack: Stack, workDir = REPO_ROOT): Promise<void> {
  const stackName = stack.name;
  await stack.destroy({ onOutput: () => undefined }).catch(() => undefined);
  await stack.workspace.removeStack(stackName).catch(() => undefined);
  spawnSync('rm', ['-f', join(workDir, `Pulumi.${stackName}.yaml`)]);
  // By name, not id: the same build (same id) may be tagged and used by another stack on this engine.
  const built = spawnSync('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=tk-${stackName}/*`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  if (built.length > 0) spawnSync('docker', ['image', 'rm', ...built], { stdio: 'ignore' });
}

/** The stack's outputs as plain values. */
export async function engineOutputs(stack: Stack): Promise<Record<string, unknown>> {
  return Object.fromEntries(Object.entries(await stack.outputs()).map(([key, output]) => [key, output.value as unknown]));
}

/** An API key made by the app inside the live slot (for the gRPC part of the load). */
export function liveApiKey(stackName: string, liveSlot: string): string {
  return execFileSync('docker', ['exec', `tk-${stackName}-${liveSlot}-web-ui`, 'node', '/opt/trapperkeeper/app/bin/trapperkeeper.js', 'api-keys', 'create', '--name', 'load'], { encoding: 'utf8' }).trim();
}
