import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { ReleaseImage, ReleaseSpec } from '../../providers/docker/spec.js';
import { createDeployEvents, type DeployEvents } from '../../components/events/deploy-events.js';
import { databaseUrl, planDockerInfrastructure } from '../../providers/docker/infrastructure-spec.js';
import { runRelease, type ReleaseContext, type ReleaseOutcome } from '../../components/release/pipeline.js';
import type { DockerEngine } from '../../providers/docker/engine.js';
import { withDockerBackend } from '../../providers/docker/release-backend.js';
import { planOfDockerSpec } from '../../providers/docker/release-plan.js';
import { planReleaseSpec } from '../../providers/docker/release-spec.js';
import { dockerConfig } from '../../providers/docker/testing.js';
import { standUpInfrastructure, type InfrastructureHandle } from './docker-infra.js';
import { TEST_IMAGES, ensureAppImage, testEngine } from './images.js';

/**
 * A whole Docker stack for release tests and the deploy benchmark: the stable infrastructure
 * from the plan the Pulumi program declares, release images tagged in the stack's repository,
 * the secrets a stack holds (with a canary that must never leak), and the ReleaseSpec the
 * Pulumi program would hand the release CLI, pointed at the ports Docker picked.
 */
export interface ReleaseFixture {
  stack: string;
  infra: InfrastructureHandle;
  /** Values of spec.secretEnv, as the release process holds them. */
  secrets: Record<string, string>;
  /** A string inside the database password: must appear in no log, page, output or image. */
  canary: string;
  events: DeployEvents;
  /** Everything the release logged so far (JSON lines). */
  log(): string;
  specFor(image: ReleaseImage, appEnv?: Record<string, string>): ReleaseSpec;
  /**
   * Runs the release (or, with `rollback`, the rollback) of `spec` as the release CLI does: its
   * plan, the Docker backend on `engine` (default: the test engine), this fixture's events and secrets.
   */
  release(spec: ReleaseSpec, options?: { engine?: DockerEngine; rollback?: ReleaseContext['rollback'] }): Promise<ReleaseOutcome>;
  /**
   * `pulumi up` after `pulumi config set --path docker.<key>`: the stack is planned again with
   * `docker` merged into its docker section and the Caddy container replaced by its new plan
   * (volumes kept); later specFor() follow the new config.
   */
  reconfigureDocker(docker: Record<string, unknown>): Promise<void>;
  /** Tags the test app image (optionally with extra migration files) as a release of this stack. */
  releaseImage(releaseId: string, extraMigrations?: Record<string, string>): Promise<ReleaseImage>;
  /** Runs `trapperkeeper <args>` once on the stack network with the stack's secrets. */
  runApp(args: string[]): Promise<string>;
  tearDown(): Promise<void>;
}

const COMMIT = '0123abcd';

export async function createReleaseFixture(stack: string, overrides: Record<string, unknown> = {}): Promise<ReleaseFixture> {
  const canary = `canary${randomBytes(6).toString('hex')}`;
  const password = `${canary}-pw`;
  const hmacSecret = `${randomBytes(16).toString('hex')}:${randomBytes(32).toString('base64')}`;
  const values: Record<string, unknown> = {
    docker: { images: { postgres: TEST_IMAGES.postgres, caddy: TEST_IMAGES.caddy } },
    database: { name: 'trapperkeeper', user: 'trapperkeeper' },
    release: { gate: { successes: 3, intervalMs: 500, timeoutMs: 30_000 }, drainTimeoutMs: 5_000, keepReleases: 5, lockWaitMs: 0 },
    snapshots: { retentionDays: 7, lockWaitTimeoutMs: 10_000 },
    ephemeral: true,
    ...overrides,
  };
  let config = dockerConfig(stack, values);
  let infraSpec = planDockerInfrastructure(config);
  const infra = await standUpInfrastructure(infraSpec, { secrets: { postgresPassword: password } });
  const secrets = { TK_DATABASE_URL: databaseUrl(infraSpec, password), TK_HMAC_SECRET: hmacSecret };
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  const events = createDeployEvents({ destination: sink, format: 'json' });
  const baseImage = ensureAppImage();
  const repository = `${infraSpec.prefix}/trapperkeeper`;
  const tagged: string[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'tk-release-'));

  const fixture: ReleaseFixture = {
    stack,
    infra,
    secrets,
    canary,
    events,
    log: () => lines.join(''),
    specFor(image, appEnv = {}) {
      const spec = planReleaseSpec(config, image, infraSpec);
      return {
        ...spec,
        appEnv: { ...spec.appEnv, ...appEnv },
        // The ports Docker picked on 127.0.0.1; with a domain, the checks still ask for its
        // certificates by name (SNI), so nothing needs the name to resolve.
        proxy: {
          ...spec.proxy,
          publicHttpUrl: spec.proxy.tls ? `https://127.0.0.1:${infra.ports.https}` : `http://127.0.0.1:${infra.ports.http}`,
          publicGrpcAddress: `127.0.0.1:${infra.ports.grpc}`,
        },
      };
    },
    release(spec, options = {}) {
      const plan = planOfDockerSpec(spec);
      // As the release process does (providers/docker/runtime.ts): the gate's probe starts with the release.
      return withDockerBackend(options.engine ?? testEngine, plan, (backend) =>
        runRelease(plan, backend, {
          events,
          secrets,
          ...(options.rollback ? { rollback: options.rollback } : {}),
        }),
      );
    },
    async reconfigureDocker(docker) {
      values.docker = { ...(values.docker as Record<string, unknown>), ...docker };
      config = dockerConfig(stack, values);
      infraSpec = planDockerInfrastructure(config);
      await infra.replaceContainer('caddy', infraSpec.caddy);
    },
    async releaseImage(releaseId, extraMigrations = {}) {
      const ref = `${repository}:${releaseId}`;
      if (Object.keys(extraMigrations).length === 0) {
        await testEngine.run(['tag', baseImage, ref]);
      } else {
        const context = mkdtempSync(join(scratch, 'image-'));
        const copies = Object.entries(extraMigrations).map(([file, sql]) => {
          writeFileSync(join(context, file), sql);
          return `COPY ${file} /opt/trapperkeeper/migrations/postgres/${file}`;
        });
        writeFileSync(join(context, 'Dockerfile'), [`FROM ${baseImage}`, ...copies, ''].join('\n'));
        await testEngine.run(['build', '-q', '-t', ref, context]);
      }
      tagged.push(ref);
      const version = releaseId.split('-')[0]!;
      return { ref, releaseId, version, commit: COMMIT };
    },
    async runApp(args) {
      return testEngine.run(
        ['run', '--rm', '--network', infraSpec.network.name, '-e', 'TK_DATABASE_URL', '-e', 'TK_HMAC_SECRET', baseImage, ...args],
        { env: secrets },
      );
    },
    async tearDown() {
      const containers = (await testEngine.run(['ps', '-aq', '--filter', `label=tk.stack=${stack}`])).split('\n').filter(Boolean);
      if (containers.length > 0) await testEngine.exec(['rm', '-f', '-v', ...containers]);
      await testEngine.exec(['rm', '-f', `${infraSpec.prefix}-deploy-lock`]);
      await infra.tearDown();
      // By tag, not by id: a release tagged straight from the app image shares its id, and removing
      // the id would take the app image's own tag with it (the next fixture of the process needs it).
      const tags = (await testEngine.run(['images', '--format', '{{.Repository}}:{{.Tag}}', repository])).split('\n').filter(Boolean);
      if (tags.length > 0) await testEngine.exec(['rmi', ...tags]);
      rmSync(scratch, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** A release id of this repository's shape (`<semver>-<sha>-<UTC timestamp>`). */
export function releaseId(version: string, sequence: number): string {
  return `${version}-${COMMIT}-20261123T0000${String(sequence).padStart(2, '0')}Z`;
}
