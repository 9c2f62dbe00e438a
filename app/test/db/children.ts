import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Child {
  process: ChildProcess;
  /** Resolves when the child printed its "ready" line. */
  ready: Promise<void>;
  send(line: string): void;
  /** Resolves when the child exits, with everything it printed. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Starts `node --import tsx fixtures/<name>.ts ...args` from the app folder. */
export function startFixture(name: string, args: string[]): Child {
  const appDir = fileURLToPath(new URL('../..', import.meta.url));
  const script = fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: appDir,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('ready\n')) resolve();
    });
    child.on('exit', () => reject(new Error(`fixture ${name} exited before it was ready:\n${stdout}\n${stderr}`)));
  });
  ready.catch(() => {});
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    process: child,
    ready,
    send: (line) => child.stdin.write(`${line}\n`),
    exited,
  };
}

/** The last JSON line a fixture printed. */
export function lastJsonLine<T>(stdout: string): T {
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
  if (!line) throw new Error(`no JSON result in:\n${stdout}`);
  return JSON.parse(line) as T;
}
