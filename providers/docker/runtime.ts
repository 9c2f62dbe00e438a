import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DeployEvents } from '../../components/events/deploy-events.js';
import type { ReleasePlan } from '../../components/release/plan.js';
import type { ReleaseBackend } from '../../components/release/ports.js';
import { SLOTS } from '../../components/release/plan.js';
import { removeSlot } from './slots/lifecycle.js';
import { takeSnapshot } from './snapshot/take-snapshot.js';
import { connectDockerEngine, type DockerEngine } from './engine.js';
import { withDockerBackend } from './release-backend.js';
import { dockerSpecOf } from './release-plan.js';
import { finalSnapshotDir } from '../final-snapshots.js';

/** Runs `work` against a Docker host (one SSH connection for all of it when the host is ssh://). */
export async function withDockerEngine<T>(host: string | undefined, work: (engine: DockerEngine) => Promise<T>): Promise<T> {
  const connected = await connectDockerEngine(host, {
    onSlowPath: (reason) => process.stderr.write(`warning: ${reason}\n  falling back to one SSH session per docker call (slower)\n`),
  });
  try {
    return await work(connected.engine);
  } finally {
    await connected.close();
  }
}

/** The Docker target as the release process uses it (see providers/targets.ts). */
export const dockerRuntime = {
  withBackend<T>(plan: ReleasePlan, work: (backend: ReleaseBackend) => Promise<T>): Promise<T> {
    return withDockerEngine(dockerSpecOf(plan).dockerHost, (engine) => withDockerBackend(engine, plan, work));
  },

  /** Before `pulumi destroy` removes the stack: both slots go; an ephemeral stack's data is copied out first. */
  destroy(plan: ReleasePlan, events: DeployEvents): Promise<void> {
    const spec = dockerSpecOf(plan);
    return withDockerEngine(spec.dockerHost, async (engine) => {
      if (spec.ephemeral) {
        const snapshot = await takeSnapshot(engine, spec, { commit: spec.image.commit, events });
        const dir = finalSnapshotDir(spec.stack);
        mkdirSync(dir, { recursive: true });
        await engine.run(['cp', `${spec.database.container}:${snapshot.path}`, join(dir, snapshot.name)]);
        await engine.run(['cp', `${spec.database.container}:${snapshot.path}.sha256`, join(dir, `${snapshot.name}.sha256`)]);
        events.logger.info({ event: 'snapshot.taken', snapshot: snapshot.name, copiedTo: dir }, 'final snapshot copied out before the data volumes are destroyed');
      }
      for (const slot of SLOTS) await removeSlot(engine, spec, slot);
    });
  },
};
