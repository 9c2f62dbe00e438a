import { spawn } from 'node:child_process';
import { DeployError } from '../../components/errors.js';
import { describeHolder } from '../../components/lock/lock-holder.js';
import type { AppService, Slot } from '../../components/release/plan.js';
import {
  appServiceOf,
  logServices,
  previousRelease,
  type ComponentHealth,
  type LogRequest,
  type LogSink,
  type StackOperations,
  type StackSnapshot,
  type StackTargetOptions,
} from '../stack-operations.js';
import type { DockerEngine } from './engine.js';
import { breakDeployLock, readDeployLock } from './lock/index.js';
import { withDockerEngine } from './runtime.js';
import { slotContainers } from './slots/names.js';
import { readSnapshotFolder, takeSnapshot, type Snapshot } from './snapshot/index.js';
import type { ReleaseSpec } from './spec.js';
import { readStackState, stackDockerHost, type StackState } from './stack-status.js';

/**
 * The operator's view of a Docker stack (providers/stack-operations.ts), read from its Docker host:
 * the slots' containers and their records, Caddy's routing, the snapshot folder in the database
 * container and the lock container, through the same modules a release uses.
 */
export function withDockerStackOperations<T>(stack: string, options: StackTargetOptions, work: (operations: StackOperations) => Promise<T>): Promise<T> {
  return withDockerEngine(stackDockerHost(stack, options.dockerHost, options.dir ?? process.cwd()), (engine) => work(dockerStackOperations(engine, stack)));
}

export function dockerStackOperations(engine: DockerEngine, stack: string): StackOperations {
  const spec = { stack, prefix: `tk-${stack}` };
  return {
    stack,
    provider: 'docker',

    async report() {
      return (await readStackState(engine, stack)).report;
    },

    async status() {
      const state = await readStackState(engine, stack);
      const snapshots = state.spec ? (await readSnapshotFolder(engine, state.spec)).snapshots : [];
      return {
        report: state.report,
        previous: previousRelease(
          state.report.live,
          state.records.map((record) => record && { slot: record.slot, releaseId: record.plan.image.releaseId, running: record.running }),
        ),
        health: await containerHealth(engine, state),
        snapshots: snapshots.map(stackSnapshotOf),
      };
    },

    async lockStatus() {
      const lock = await readDeployLock(engine, spec);
      return lock.state === 'held' ? describeHolder(lock.holder, new Date()) : lock.state;
    },

    async breakLock({ events, by, reason }) {
      await breakDeployLock(engine, spec, { events, by, ...(reason ? { reason } : {}) });
    },

    async backup(events) {
      const state = await readStackState(engine, stack);
      const released = requireReleasedSpec(state, stack);
      events.logger.info({ database: released.database.name, container: released.database.container }, `taking a snapshot of ${released.database.name} in ${released.database.container} (pg_dump, full read-back, checksum)`);
      const snapshot = await takeSnapshot(engine, released, { commit: liveCommitOf(state), events });
      return { ...stackSnapshotOf(snapshot), location: `${released.database.container}:${snapshot.path}`, fields: { container: released.database.container, path: snapshot.path } };
    },

    async listSnapshots() {
      const released = requireReleasedSpec(await readStackState(engine, stack), stack);
      const folder = await readSnapshotFolder(engine, released);
      return { location: `${released.database.container}:${folder.dir}`, snapshots: folder.snapshots.map(stackSnapshotOf), traces: folder.traces };
    },

    async logs(request: LogRequest, sink: LogSink) {
      const state = await readStackState(engine, stack);
      const released = requireReleasedSpec(state, stack);
      const fixed: Record<string, string> = { postgres: released.database.container, caddy: released.proxy.container };
      const services = logServices(request);
      const targets = services.map((service) => {
        const app = appServiceOf(service);
        return { service, container: app ? liveSlotContainers(state, stack).containers[app] : fixed[service]! };
      });
      const prefix = targets.length > 1;
      const codes = await Promise.all(
        targets.map(({ service, container }) =>
          streamDockerLogs(engine.options.host, ['logs', '--tail', String(request.tail), ...(request.follow ? ['--follow'] : []), container], sink, prefix ? `${service} | ` : ''),
        ),
      );
      const failed = codes.find((code) => code !== 0);
      if (failed !== undefined) throw new DeployError(`docker logs exited with ${failed}`, `check the container exists: tkctl status --stack ${stack}`);
    },
  };
}

function stackSnapshotOf(snapshot: Snapshot): StackSnapshot {
  return { name: snapshot.name, takenAt: snapshot.takenAt, verified: snapshot.verified, size: snapshot.size, sha256: snapshot.sha256 ?? null, commit: snapshot.commit };
}

/** The stack's release spec as its slots recorded it; a stack that never released has none. */
export function requireReleasedSpec(state: StackState, stack: string): ReleaseSpec {
  if (!state.spec) {
    throw new DeployError(
      `Stack ${stack} has no release on its Docker host (no slot container tk-${stack}-blue-web-ui or tk-${stack}-green-web-ui)`,
      `tkctl up --stack ${stack}`,
    );
  }
  return state.spec;
}

/** The containers serving users now: the live slot's, by service. */
export function liveSlotContainers(state: StackState, stack: string): { slot: Slot; containers: Record<AppService, string> } {
  const spec = requireReleasedSpec(state, stack);
  const live = state.report.live;
  if (!live) throw new DeployError(`Stack ${stack} has no live slot (Caddy routes to none)`, `tkctl up --stack ${stack}`);
  return {
    slot: live.slot,
    containers: Object.fromEntries(slotContainers(spec.prefix, live.slot).map((c) => [c.service, c.name])) as Record<AppService, string>,
  };
}

/** The git commit of the release serving now (snapshot names carry it). */
export function liveCommitOf(state: StackState): string {
  const live = state.records.find((record) => record && record.slot === state.report.live?.slot) ?? state.records.find(Boolean);
  return live?.plan.image.commit ?? 'unknown';
}

/** Every container of the stack the release relies on: the live and parked slots', PostgreSQL and Caddy. */
async function containerHealth(engine: DockerEngine, state: StackState): Promise<ComponentHealth[]> {
  const spec = state.spec;
  if (!spec) return [];
  const targets: { container: string; role: string }[] = [
    { container: spec.database.container, role: 'postgres' },
    { container: spec.proxy.container, role: 'caddy' },
  ];
  for (const record of state.records) {
    if (!record) continue;
    const role = record.slot === state.report.live?.slot ? 'live' : 'parked';
    for (const { service, name } of slotContainers(spec.prefix, record.slot)) targets.push({ container: name, role: `${service} (${role})` });
  }
  return Promise.all(
    targets.map(async ({ container, role }) => {
      const inspected = await engine.exec(['container', 'inspect', '--format', '{{json .State}}', container]);
      if (inspected.exitCode !== 0) return { component: container, role, state: 'missing', health: null };
      const parsed = JSON.parse(inspected.stdout) as { Status?: string; Health?: { Status?: string } };
      return { component: container, role, state: parsed.Status ?? 'unknown', health: parsed.Health?.Status ?? null };
    }),
  );
}

/** docker logs writes the container's stdout to stdout and its stderr to stderr; both go to the sink, line by line. */
function streamDockerLogs(host: string | undefined, args: string[], sink: LogSink, prefix: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { env: { ...process.env, ...(host ? { DOCKER_HOST: host } : {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
    const pipe = (from: NodeJS.ReadableStream, to: (line: string) => void) => {
      let rest = '';
      from.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString('utf8')).split('\n');
        rest = lines.pop() ?? '';
        for (const text of lines) to(`${prefix}${text}`);
      });
      from.on('end', () => rest && to(`${prefix}${rest}`));
    };
    pipe(child.stdout, (line) => sink.out(line));
    pipe(child.stderr, (line) => sink.err(line));
    // Ctrl-C ends a --follow: docker logs is stopped (a terminal signals it too) and that is a
    // clean exit, whatever code it dies with; the process stays alive until it has. `on`, not
    // `once`: a second SIGINT (tkctl's bin forwarding the same Ctrl-C) must not kill it midway.
    let interrupted = false;
    const stop = () => {
      interrupted = true;
      child.kill('SIGTERM');
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(interrupted || signal === 'SIGTERM' ? 0 : code ?? 1);
    });
  });
}
