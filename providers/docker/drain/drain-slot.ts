import type { DockerEngine } from '../engine.js';
import type { ReleaseSpec, Slot } from '../spec.js';
import { parkSlot, type ParkedContainer } from '../slots/index.js';

export type DrainOutcome = 'drained' | 'killed' | 'exited-with-error' | 'already-stopped';

export interface DrainReport {
  slot: Slot;
  /** True when every running container drained and exited 0 on its own. */
  clean: boolean;
  containers: (ParkedContainer & { outcome: DrainOutcome })[];
}

/** 137 = SIGKILL after the stop timeout: in-flight requests may have been cut. */
export function drainOutcome(container: ParkedContainer): DrainOutcome {
  if (!container.wasRunning) return 'already-stopped';
  if (container.exitCode === 0) return 'drained';
  if (container.exitCode === 137) return 'killed';
  return 'exited-with-error';
}

export function assessDrain(slot: Slot, parked: readonly ParkedContainer[]): DrainReport {
  const containers = parked.map((c) => ({ ...c, outcome: drainOutcome(c) }));
  return { slot, clean: containers.every((c) => c.outcome === 'drained' || c.outcome === 'already-stopped'), containers };
}

/**
 * Drains and parks `slot`: SIGTERM, the app finishes its in-flight requests within the drain
 * timeout (Docker kills only after it, see slotStopTimeoutSeconds), and the stopped containers
 * and their image stay for an instant rollback.
 */
export async function drainSlot(engine: DockerEngine, spec: ReleaseSpec, slot: Slot): Promise<DrainReport> {
  return assessDrain(slot, await parkSlot(engine, spec, slot));
}
