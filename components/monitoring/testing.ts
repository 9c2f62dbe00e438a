/**
 * Test helpers for the monitoring tests (not exported by the barrel): the Debian tools they run
 * and a place for rendered files.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The binaries of Debian's prometheus, prometheus-alertmanager and exporter packages (.ci/run installs them). */
export const MONITORING_TOOLS = {
  promtool: 'promtool',
  prometheus: 'prometheus',
  amtool: 'amtool',
  alertmanager: 'prometheus-alertmanager',
  nodeExporter: 'prometheus-node-exporter',
  postgresExporter: 'prometheus-postgres-exporter',
} as const;

const INSTALL = 'apt-get install -y --no-install-recommends prometheus prometheus-alertmanager prometheus-node-exporter prometheus-postgres-exporter (or run .ci/run)';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion; a missing binary fails with the command that installs it. */
export function runTool(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: options.env ?? process.env, cwd: options.cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(`${command} is not installed; ${INSTALL}`));
        return;
      }
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A temporary folder that files are written into by relative path. */
export class FileTree {
  readonly dir = mkdtempSync(join(tmpdir(), 'tk-monitoring-'));

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  write(files: Record<string, string>, under = ''): void {
    for (const [name, content] of Object.entries(files)) {
      const path = this.path(under, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
    }
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
