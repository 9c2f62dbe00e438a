/**
 * Test fixture: how the Cloud Run emulator runs a revision's or a task's container on the local
 * Docker engine, through the docker CLI. Ports are published on 127.0.0.1 only; environment
 * values travel in the docker CLI's environment (`-e NAME`), never on its command line.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ContainerSpec {
  name: string;
  image: string;
  /** Replaces the image's entrypoint (Cloud Run `command`). */
  command?: string[];
  /** Replaces the image's CMD (Cloud Run `args`). */
  args?: string[];
  env: Record<string, string>;
  mounts: Array<{ host: string; container: string }>;
  /** The container port to publish on 127.0.0.1 (a free host port). */
  publish?: number;
  labels: Record<string, string>;
}

function runArguments(spec: ContainerSpec): string[] {
  const [entrypoint, ...commandRest] = spec.command ?? [];
  return [
    '--name',
    spec.name,
    ...Object.entries(spec.labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]),
    ...Object.keys(spec.env).flatMap((key) => ['-e', key]),
    ...spec.mounts.flatMap((mount) => ['-v', `${mount.host}:${mount.container}`]),
    ...(spec.publish !== undefined ? ['-p', `127.0.0.1::${spec.publish}`] : []),
    ...(entrypoint !== undefined ? ['--entrypoint', entrypoint] : []),
    spec.image,
    ...commandRest,
    ...(spec.args ?? []),
  ];
}

export async function startContainer(spec: ContainerSpec): Promise<void> {
  await run('docker', ['run', '-d', ...runArguments(spec)], { env: { ...process.env, ...spec.env } });
}

/** Runs the container to its end; its exit code (or -1 when killed at the timeout). */
export function runContainer(spec: ContainerSpec, timeoutMs: number): Promise<{ exitCode: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', ['run', ...runArguments(spec)], { env: { ...process.env, ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => void run('docker', ['kill', spec.name]).catch(() => undefined), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? -1, output });
    });
  });
}

/** `127.0.0.1:<port>` where the container's port is published. */
export async function publishedAddress(name: string, containerPort: number): Promise<string> {
  const { stdout } = await run('docker', ['port', name, `${containerPort}/tcp`]);
  const line = stdout.split('\n').find((l) => l.startsWith('127.0.0.1:'));
  if (!line) throw new Error(`container ${name} does not publish ${containerPort} on 127.0.0.1: ${stdout}`);
  return line.trim();
}

export async function containerState(name: string): Promise<{ running: boolean; exitCode: number } | undefined> {
  try {
    const { stdout } = await run('docker', ['inspect', '--format', '{{.State.Running}} {{.State.ExitCode}}', name]);
    const [running, exitCode] = stdout.trim().split(' ');
    return { running: running === 'true', exitCode: Number(exitCode) };
  } catch {
    return undefined;
  }
}

export async function containerLogs(name: string, lines = 20): Promise<string> {
  try {
    const { stdout, stderr } = await run('docker', ['logs', '--tail', String(lines), name]);
    return `${stdout}${stderr}`.trim();
  } catch (error) {
    return (error as Error).message;
  }
}

/** SIGTERM, then SIGKILL after `graceSeconds` (as Cloud Run retires an instance), and removes it. */
export async function removeContainer(name: string, graceSeconds = 10): Promise<void> {
  await run('docker', ['stop', '-t', String(graceSeconds), name]).catch(() => undefined);
  await run('docker', ['rm', '-f', name]).catch(() => undefined);
}

export async function removeLabelled(label: string): Promise<void> {
  const { stdout } = await run('docker', ['ps', '-aq', '--filter', `label=${label}`]).catch(() => ({ stdout: '' }));
  const ids = stdout.split('\n').filter(Boolean);
  if (ids.length > 0) await run('docker', ['rm', '-f', ...ids]).catch(() => undefined);
}
