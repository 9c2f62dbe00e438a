import { createRequire } from 'node:module';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { BUILD_INFO } from '../src/version.js';

export interface MachineFacts {
  date: string;
  cpus: number;
  cpuModel: string;
  totalMemoryMiB: number;
  os: string;
  nodeVersion: string;
  app: { version: string; commit: string };
  /** 1-minute load average when the run started: other work on the machine skews every number. */
  loadAverageAtStart: number;
  packages: Record<string, string>;
}

const DRIVER_PACKAGES = ['better-sqlite3', 'pg', 'mysql2', '@grpc/grpc-js', '@grpc/proto-loader', 'fastify'];

function packageVersion(name: string): string {
  try {
    const required = createRequire(import.meta.url)(`${name}/package.json`) as { version?: string };
    return required.version ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

export function machineFacts(): MachineFacts {
  const cores = cpus();
  return {
    date: new Date().toISOString(),
    cpus: cores.length,
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    totalMemoryMiB: Math.round(totalmem() / (1024 * 1024)),
    os: `${platform()} ${release()} ${arch()}`,
    nodeVersion: process.version,
    app: { version: BUILD_INFO.version, commit: BUILD_INFO.commit },
    loadAverageAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    packages: Object.fromEntries(DRIVER_PACKAGES.map((name) => [name, packageVersion(name)])),
  };
}

export function currentLoadAverage(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}
