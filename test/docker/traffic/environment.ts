import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bootstrapCaddyConfig, CADDY_BOOTSTRAP_PATH, caddyRunCommand, PROXY_PORTS } from '../../../providers/docker/proxy/index.js';
import type { ReleaseSpec } from '../../../providers/docker/spec.js';
import { TEST_IMAGES, ensureAppImage, requireDocker, testEngine, uniqueName } from '../../support/images.js';

/**
 * A stack of our own on the local Docker engine: a network, PostgreSQL (migrated), Caddy from
 * the toolkit's bootstrap config with its public listeners published on 127.0.0.1 (the staging
 * ones are not published: the gate reaches them from inside the network, as it must on a remote
 * engine), and one release image per release id (the app image with a distinct label, so each
 * has its own image id).
 */
export interface TrafficEnvironment {
  name: string;
  network: string;
  caddy: string;
  repository: string;
  ports: { publicHttp: string; publicGrpc: string };
  /** Values of the secret variables the slots need (TK_DATABASE_URL, TK_HMAC_SECRET). */
  secrets: Record<string, string>;
  appImage: string;
  /** Builds (once) the release image for `releaseId` and returns the release's spec. */
  release(releaseId: string, overrides?: Partial<ReleaseSpec>): Promise<ReleaseSpec>;
  /** Re-reads Caddy's published ports (Docker picks new ones when the container restarts). */
  refreshPorts(): Promise<void>;
  /** Runs a container of ours on the stack network (removed at cleanup). */
  run(suffix: string, args: string[]): Promise<string>;
  cleanup(): Promise<void>;
}

const engine = testEngine;

/** The releases' drain timeout, also Caddy's grace period in the bootstrap config. */
export const TEST_DRAIN_TIMEOUT_MS = 5000;

async function waitFor<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

async function publishedPort(container: string, port: number): Promise<string> {
  const out = await engine.run(['port', container, `${port}/tcp`]);
  const address = out.split('\n').find((line) => line.startsWith('127.0.0.1:'));
  if (!address) throw new Error(`${container} publishes ${port} on no 127.0.0.1 port: ${out}`);
  return address;
}

export async function createTrafficEnvironment(): Promise<TrafficEnvironment> {
  await requireDocker();
  const appImage = ensureAppImage();
  const name = uniqueName('tk-traffic');
  const network = `${name}-net`;
  const postgres = `${name}-postgres`;
  const caddy = `${name}-caddy`;
  const repository = `${name}/trapperkeeper`;
  const builtReleases = new Map<string, string>();
  const workDir = mkdtempSync(join(tmpdir(), 'tk-traffic-'));

  const cleanup = async () => {
    const containers = (await engine.run(['ps', '--all', '--quiet', '--filter', `name=^/${name}-`])).split('\n').filter(Boolean);
    if (containers.length > 0) await engine.exec(['rm', '--force', '--volumes', ...containers]);
    await engine.exec(['network', 'rm', network]);
    const tags = (await engine.exec(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', repository])).stdout.split('\n').filter(Boolean);
    if (tags.length > 0) await engine.exec(['image', 'rm', ...tags]);
    rmSync(workDir, { recursive: true, force: true });
  };

  try {
    await engine.run(['network', 'create', network]);

    const postgresPassword = randomBytes(18).toString('hex');
    await engine.run(
      ['run', '--detach', '--name', postgres, '--network', network, '-e', 'POSTGRES_PASSWORD', '-e', 'POSTGRES_DB=trapperkeeper', TEST_IMAGES.postgres],
      { env: { POSTGRES_PASSWORD: postgresPassword } },
    );

    const bootstrapFile = join(workDir, 'bootstrap.json');
    writeFileSync(bootstrapFile, JSON.stringify(bootstrapCaddyConfig({ prefix: name, graceMs: TEST_DRAIN_TIMEOUT_MS }), null, 2));
    await engine.run([
      'create', '--name', caddy, '--network', network,
      ...[PROXY_PORTS.publicHttp, PROXY_PORTS.publicGrpc].flatMap((port) => ['-p', `127.0.0.1::${port}`]),
      TEST_IMAGES.caddy,
      ...caddyRunCommand(CADDY_BOOTSTRAP_PATH),
    ]);
    await engine.run(['cp', bootstrapFile, `${caddy}:${CADDY_BOOTSTRAP_PATH}`]);
    await engine.run(['start', caddy]);
    const readPorts = async () => ({
      publicHttp: await publishedPort(caddy, PROXY_PORTS.publicHttp),
      publicGrpc: await publishedPort(caddy, PROXY_PORTS.publicGrpc),
    });
    const ports = await readPorts();

    const secrets = {
      TK_DATABASE_URL: `postgres://postgres:${postgresPassword}@${postgres}:5432/trapperkeeper`,
      TK_HMAC_SECRET: `${randomBytes(16).toString('hex')}:${randomBytes(32).toString('base64')}`,
    };
    await waitFor('PostgreSQL', async () =>
      (await engine.exec(['exec', postgres, 'pg_isready', '-q', '-U', 'postgres', '-d', 'trapperkeeper'])).exitCode === 0 ? true : undefined,
    );
    // pg_isready turns true during the entrypoint's temporary server too: retry the migration.
    await waitFor('the migration', async () => {
      const result = await engine.exec(['run', '--rm', '--network', network, '-e', 'TK_DATABASE_URL', appImage, 'migrate'], { env: secrets });
      if (result.exitCode !== 0) throw new Error(result.stderr.trim().split('\n').slice(-3).join(' '));
      return true;
    });

    return {
      name,
      network,
      caddy,
      repository,
      ports,
      secrets,
      appImage,
      async release(releaseId, overrides = {}) {
        const ref = `${repository}:${releaseId}`;
        if (!builtReleases.has(releaseId)) {
          await engine.run(['build', '--quiet', '--tag', ref, '-'], { input: `FROM ${appImage}\nLABEL tk.test.release=${releaseId}\n` });
          builtReleases.set(releaseId, ref);
        }
        return {
          stack: name,
          prefix: name,
          network,
          image: { ref, releaseId, version: '0.0.0-test', commit: releaseId },
          appEnv: { TK_LOG_LEVEL: process.env.TK_TEST_APP_LOG_LEVEL ?? 'warn' },
          secretEnv: ['TK_DATABASE_URL', 'TK_HMAC_SECRET'],
          database: { container: postgres, name: 'trapperkeeper', user: 'postgres' },
          snapshots: { dir: '/snapshots', retentionDays: 7, lockWaitTimeoutMs: 10_000 },
          proxy: {
            container: caddy,
            publicHttpUrl: `http://${ports.publicHttp}`,
            publicGrpcAddress: ports.publicGrpc,
          },
          gate: { successes: 3, intervalMs: 200, timeoutMs: 30_000 },
          drainTimeoutMs: TEST_DRAIN_TIMEOUT_MS,
          keepReleases: 5,
          lock: { waitMs: 0 },
          ...overrides,
        };
      },
      async refreshPorts() {
        Object.assign(ports, await readPorts());
      },
      async run(suffix, args) {
        const container = `${name}-${suffix}`;
        await engine.run(['run', '--detach', '--name', container, '--network', network, ...args]);
        return container;
      },
      cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
