/**
 * The release CLI: what `pulumi up` runs (through the `release` local.Command) and what a person
 * runs to look at a stack's releases and lock.
 *
 *   deploy                    run a release; ReleaseSpec in TK_RELEASE_SPEC, secrets in TK_DATABASE_URL / TK_HMAC_SECRET;
 *                             with TK_ROLLBACK_TO (the stack's release.rollbackTo) make that kept release live instead
 *   destroy                   before `pulumi destroy` removes the stack: remove both slots (final snapshot when ephemeral)
 *   status --stack S          live and parked releases, latest snapshot, lock
 *   lock status|break --stack S
 *
 * Rollback goes through `pulumi up` (`pulumi config set --path release.rollbackTo <release>`), so
 * the stack's outputs always tell the release that serves. `deploy` and `destroy` print one line
 * per step on stderr (TK_DEPLOY_EVENTS=json: JSON lines) and append every event as JSON to
 * TK_DEPLOY_EVENTS_FILE (default .trapperkeeper/events/<stack>.jsonl); stdout carries only the
 * summary line the stack outputs are read from.
 *
 * `--stack` commands find the Docker host in --docker-host, else DOCKER_HOST, else the stack's
 * Pulumi.<stack>.yaml (trapperkeeper:docker.host), else the local engine.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { connectDockerEngine, type DockerEngine } from '../../providers/docker/engine.js';
import { DeployError } from '../errors.js';
import { createDeployEvents, DEPLOY_EVENTS_FILE_ENV } from '../events/deploy-events.js';
import { breakDeployLock, describeHolder, readDeployLock } from '../lock/index.js';
import { readProxyState } from '../proxy/index.js';
import { removeSlot } from '../slots/index.js';
import { latestSnapshot, takeSnapshot } from '../snapshot/index.js';
import { runRelease } from './pipeline.js';
import { RELEASE_SPEC_ENV, ROLLBACK_TO_ENV } from './command-line.js';
import { runRollback } from './rollback.js';
import { readSlotRecord } from './slot-spec.js';
import { SLOTS, type ReleaseSpec } from './spec.js';

/** Where `deploy` and `destroy` append their events as JSON lines, unless TK_DEPLOY_EVENTS_FILE says. */
const EVENTS_DIR = '.trapperkeeper/events';
/** Where `destroy` copies the final snapshot of an ephemeral stack before its volumes go. */
const FINAL_SNAPSHOT_DIR = '.trapperkeeper/final-snapshots';

function specFromEnv(): ReleaseSpec {
  const text = process.env[RELEASE_SPEC_ENV];
  if (!text) throw new DeployError(`${RELEASE_SPEC_ENV} is not set`, 'run this through `pulumi up`, which sets it from the stack config');
  try {
    return JSON.parse(text) as ReleaseSpec;
  } catch (error) {
    throw new DeployError(`${RELEASE_SPEC_ENV} is not valid JSON: ${(error as Error).message}`, 'run this through `pulumi up`');
  }
}

function stackDockerHost(stack: string): string | undefined {
  const file = `Pulumi.${stack}.yaml`;
  if (!existsSync(file)) return undefined;
  const config = (parseYaml(readFileSync(file, 'utf8')) as { config?: Record<string, unknown> } | null)?.config ?? {};
  const docker = config['trapperkeeper:docker'] as { host?: unknown } | undefined;
  return typeof docker?.host === 'string' ? docker.host : undefined;
}

function requireStack(stack: string | undefined): string {
  if (!stack) throw new DeployError('--stack is required', 'name the Pulumi stack, e.g. --stack dev');
  return stack;
}

function stackDockerHostOf(stack: string, dockerHost: string | undefined): string | undefined {
  return dockerHost ?? process.env.DOCKER_HOST ?? stackDockerHost(stack);
}

/** Runs `work` against the Docker host (one SSH connection for all of it when the host is ssh://). */
async function withEngine(host: string | undefined, work: (engine: DockerEngine) => Promise<void>): Promise<void> {
  const connected = await connectDockerEngine(host, {
    onSlowPath: (reason) => process.stderr.write(`warning: ${reason}\n  falling back to one SSH session per docker call (slower)\n`),
  });
  try {
    await work(connected.engine);
  } finally {
    await connected.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      stack: { type: 'string' },
      'docker-host': { type: 'string' },
      reason: { type: 'string' },
    },
  });
  const [command, subcommand] = positionals;
  const releaseEvents = (spec: ReleaseSpec) => createDeployEvents({ jsonFile: process.env[DEPLOY_EVENTS_FILE_ENV] || join(EVENTS_DIR, `${spec.stack}.jsonl`) });

  switch (command) {
    case 'deploy': {
      const spec = specFromEnv();
      const events = releaseEvents(spec);
      const rollbackTo = process.env[ROLLBACK_TO_ENV] || undefined;
      await withEngine(spec.dockerHost, async (engine) => {
        const outcome = rollbackTo
          ? await runRollback({ engine, events, prefix: spec.prefix, to: rollbackTo, pinned: true })
          : await runRelease(spec, { engine, events });
        if ('migrationWarning' in outcome && outcome.migrationWarning) process.stderr.write(`\nwarning: ${outcome.migrationWarning}\n\n`);
        const latest = 'latestSnapshot' in outcome ? outcome.latestSnapshot : ((await latestSnapshot(engine, spec))?.name ?? null);
        const { liveSlot, liveRelease, previousRelease } = outcome;
        process.stdout.write(`${JSON.stringify({ liveSlot, liveRelease, previousRelease, latestSnapshot: latest })}\n`);
      });
      return;
    }
    case 'destroy': {
      const spec = specFromEnv();
      const events = releaseEvents(spec);
      await withEngine(spec.dockerHost, async (engine) => {
        if (spec.ephemeral) {
          const snapshot = await takeSnapshot(engine, spec, { commit: spec.image.commit, events });
          const dir = join(FINAL_SNAPSHOT_DIR, spec.stack);
          mkdirSync(dir, { recursive: true });
          await engine.run(['cp', `${spec.database.container}:${snapshot.path}`, join(dir, snapshot.name)]);
          await engine.run(['cp', `${spec.database.container}:${snapshot.path}.sha256`, join(dir, `${snapshot.name}.sha256`)]);
          events.logger.info({ event: 'snapshot.taken', snapshot: snapshot.name, copiedTo: dir }, 'final snapshot copied out before the data volumes are destroyed');
        }
        for (const slot of SLOTS) await removeSlot(engine, spec, slot);
      });
      return;
    }
    case 'status': {
      const stack = requireStack(values.stack);
      const prefix = `tk-${stack}`;
      await withEngine(stackDockerHostOf(stack, values['docker-host']), async (engine) => {
        const records = await Promise.all(SLOTS.map((slot) => readSlotRecord(engine, prefix, slot)));
        const anySpec = records.find((record) => record)?.spec;
        const routing = anySpec ? (await readProxyState(engine, anySpec)).routing : null;
        const lock = await readDeployLock(engine, { prefix });
        const latest = anySpec ? await latestSnapshot(engine, anySpec) : undefined;
        process.stdout.write(
          `${JSON.stringify({
            live: routing?.live ?? null,
            slots: Object.fromEntries(records.map((record, index) => [SLOTS[index], record?.spec.image.releaseId ?? null])),
            latestSnapshot: latest?.name ?? null,
            lock: lock.state === 'held' ? describeHolder(lock.holder, new Date()) : lock.state,
          })}\n`,
        );
      });
      return;
    }
    case 'lock': {
      const stack = requireStack(values.stack);
      const spec = { stack, prefix: `tk-${stack}` };
      await withEngine(stackDockerHostOf(stack, values['docker-host']), async (engine) => {
        if (subcommand === 'break') {
          await breakDeployLock(engine, spec, { events: createDeployEvents(), by: process.env.USER ?? 'unknown', ...(values.reason ? { reason: values.reason } : {}) });
          return;
        }
        const lock = await readDeployLock(engine, spec);
        process.stdout.write(`${lock.state === 'held' ? describeHolder(lock.holder, new Date()) : lock.state}\n`);
      });
      return;
    }
    default:
      throw new DeployError(
        `Unknown command "${command ?? ''}"`,
        'use one of: deploy, destroy, status --stack S, lock status|break --stack S (roll back with `pulumi config set --path release.rollbackTo <release>` and `pulumi up`)',
      );
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof DeployError) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`unexpected error (a bug in the toolkit): ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(70);
});
