import { randomBytes } from 'node:crypto';
import { databaseUrl, planDockerInfrastructure } from '../../../providers/docker/infrastructure-spec.js';
import { planReleaseSpec } from '../../../providers/docker/release-spec.js';
import type { ReleaseSpec } from '../../../providers/docker/spec.js';
import { dockerConfig } from '../../../providers/docker/testing.js';
import { standUpInfrastructure } from '../../support/docker-infra.js';
import { TEST_IMAGES, ensureAppImage, requireDocker, testEngine, uniqueName } from '../../support/images.js';

/**
 * A stack of our own on the local Docker engine: the stable infrastructure a stack gets
 * (test/support/docker-infra.ts: network, volumes, PostgreSQL, Caddy from the toolkit's bootstrap
 * config with its public listeners published on 127.0.0.1; the staging ones are not published,
 * the gate reaches them from inside the network, as it must on a remote engine), the database
 * migrated, and one release image per release id (the app image with a distinct label, so each
 * has its own image id).
 */
export interface TrafficEnvironment {
  /** The stack (the tk.stack label of its objects). */
  stack: string;
  /** `tk-<stack>`: the prefix of the stack's Docker objects. */
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
const TEST_DRAIN_TIMEOUT_MS = 5000;

export async function createTrafficEnvironment(): Promise<TrafficEnvironment> {
  await requireDocker();
  const appImage = ensureAppImage();
  const stack = uniqueName('traffic');
  const config = dockerConfig(stack, {
    docker: { images: { postgres: TEST_IMAGES.postgres, caddy: TEST_IMAGES.caddy } },
    database: { name: 'trapperkeeper', user: 'trapperkeeper' },
    app: { logLevel: process.env.TK_TEST_APP_LOG_LEVEL ?? 'warn' },
    release: { gate: { successes: 3, intervalMs: 200, timeoutMs: 30_000 }, drainTimeoutMs: TEST_DRAIN_TIMEOUT_MS, keepReleases: 5, lockWaitMs: 0 },
    snapshots: { retentionDays: 7, lockWaitTimeoutMs: 10_000 },
    ephemeral: true,
  });
  const infraSpec = planDockerInfrastructure(config);
  const name = infraSpec.prefix;
  const network = infraSpec.network.name;
  const caddy = infraSpec.caddy.name;
  const repository = `${name}/trapperkeeper`;
  const builtReleases = new Map<string, string>();
  const postgresPassword = randomBytes(18).toString('hex');
  const infra = await standUpInfrastructure(infraSpec, { secrets: { postgresPassword } });

  const cleanup = async () => {
    // Slots, probes, the deploy lock and containers of run(): everything named after the stack.
    const containers = (await engine.run(['ps', '--all', '--quiet', '--filter', `name=^/${name}-`])).split('\n').filter(Boolean);
    if (containers.length > 0) await engine.exec(['rm', '--force', '--volumes', ...containers]);
    await infra.tearDown();
    const tags = (await engine.exec(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', repository])).stdout.split('\n').filter(Boolean);
    if (tags.length > 0) await engine.exec(['image', 'rm', ...tags]);
  };

  try {
    const asAddress = (published: Record<'http' | 'grpc', number>) => ({ publicHttp: `127.0.0.1:${published.http}`, publicGrpc: `127.0.0.1:${published.grpc}` });
    const ports = asAddress(infra.ports);
    const secrets = {
      TK_DATABASE_URL: databaseUrl(infraSpec, postgresPassword),
      TK_HMAC_SECRET: `${randomBytes(16).toString('hex')}:${randomBytes(32).toString('base64')}`,
    };
    // The stand-up returned once PostgreSQL's health check (over TCP, so not the entrypoint's init server) passed.
    await engine.run(['run', '--rm', '--network', network, '-e', 'TK_DATABASE_URL', appImage, 'migrate'], { env: secrets });

    return {
      stack,
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
        const image = { ref, releaseId, version: '0.0.0-test', commit: releaseId };
        const spec = planReleaseSpec(config, image, infraSpec);
        return {
          ...spec,
          // The bare release id, as the assertions name it (planReleaseSpec adds the config digest).
          image,
          proxy: { ...spec.proxy, publicHttpUrl: `http://${ports.publicHttp}`, publicGrpcAddress: ports.publicGrpc },
          ...overrides,
        };
      },
      async refreshPorts() {
        Object.assign(ports, asAddress(await infra.readPorts()));
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
