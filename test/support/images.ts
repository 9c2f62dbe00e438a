import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DockerEngine } from '../../providers/docker/engine.js';

/**
 * Images the Docker-backed tests use. No registry is reachable on CI machines, so they default
 * to the local stand-ins that scripts/offline-images.sh builds; the toolkit's own defaults stay
 * the official public names.
 */
export const TEST_IMAGES = {
  postgres: process.env.TK_TEST_POSTGRES_IMAGE ?? 'tk-offline/postgres:15',
  caddy: process.env.TK_TEST_CADDY_IMAGE ?? 'tk-offline/caddy:2',
  /** Small image for helper containers (lock holders, probes). */
  base: process.env.TK_TEST_BASE_IMAGE ?? 'tk-offline/debian:bookworm',
  /** monitoring.images.* in tests: Debian's packages of the versions DEFAULT_MONITORING_IMAGES names. */
  monitoring: {
    prometheus: 'tk-offline/prometheus:v2.42.0',
    alertmanager: 'tk-offline/alertmanager:v0.25.0',
    nodeExporter: 'tk-offline/node-exporter:v1.5.0',
    postgresExporter: 'tk-offline/postgres-exporter:v0.11.1',
  },
};

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const testEngine = new DockerEngine({ host: process.env.DOCKER_HOST });

/** Fails fast, with the fix, when no Docker engine answers. */
export async function requireDocker(): Promise<void> {
  const result = await testEngine.exec(['info', '--format', '{{.ServerVersion}}']);
  if (result.exitCode !== 0) {
    throw new Error(`No Docker engine answers (${result.stderr.trim()}); run scripts/offline-images.sh, which starts one`);
  }
}

let appImageBuilt: string | undefined;

/**
 * Builds app/Dockerfile on the offline bases once per test process and returns its tag (layers
 * are cached by Docker, so a rebuild without source changes takes seconds).
 */
export function ensureAppImage(tag = process.env.TK_TEST_APP_IMAGE ?? 'trapperkeeper:test'): string {
  if (appImageBuilt === tag) return tag;
  const buildArgs = execFileSync('bash', ['scripts/offline-images.sh', '--print-build-args'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  execFileSync('docker', ['build', '-q', ...buildArgs, '-f', 'app/Dockerfile', '-t', tag, '.'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  appImageBuilt = tag;
  return tag;
}

/** A name unique to this test run, for Docker objects that must not collide between runs. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
