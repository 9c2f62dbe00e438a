import { DockerCommandError, type DockerEngine } from '../engine.js';
import { DeployError } from '../../../components/errors.js';
import type { ReleaseSpec, Slot } from '../spec.js';
import { findSlotProblems, inspectSlot, type SlotInspection } from './inspect-slot.js';
import { slotContainers } from './names.js';
import { slotStopTimeoutSeconds } from './stop-timeout.js';

/** `docker stop` that lets the app drain: SIGTERM, then SIGKILL only after the drain timeout. */
export function planStopContainer(name: string, drainTimeoutMs: number): string[] {
  return ['stop', '--time', String(slotStopTimeoutSeconds(drainTimeoutMs)), name];
}

export interface ParkedContainer {
  name: string;
  /** False when the container was already stopped (or missing) before parking. */
  wasRunning: boolean;
  /** 0 when the app drained and exited on its own; 137 when Docker had to kill it. */
  exitCode: number | null;
  stoppedInMs: number;
}

/**
 * Stops the slot's containers with SIGTERM and a stop timeout >= the drain, keeping containers
 * and image: the parked slot is the instant rollback target (`startParkedSlot`).
 */
export async function parkSlot(engine: DockerEngine, spec: ReleaseSpec, slot: Slot): Promise<ParkedContainer[]> {
  const before = await inspectSlot(engine, spec.prefix, slot);
  return Promise.all(
    before.map(async (container): Promise<ParkedContainer> => {
      if (!container.exists || !container.running) {
        return { name: container.name, wasRunning: false, exitCode: container.exists ? container.exitCode : null, stoppedInMs: 0 };
      }
      const started = performance.now();
      await engine.run(planStopContainer(container.name, spec.drainTimeoutMs), {
        timeoutMs: (slotStopTimeoutSeconds(spec.drainTimeoutMs) + 30) * 1000,
      });
      const stoppedInMs = Math.round(performance.now() - started);
      const after = (await inspectSlot(engine, spec.prefix, slot)).find((c) => c.name === container.name);
      return { name: container.name, wasRunning: true, exitCode: after?.exists ? after.exitCode : null, stoppedInMs };
    }),
  );
}

/**
 * Starts a parked slot again (rollback): the same containers, image and release; a slot on
 * running standby is only checked. Throws when nothing is parked there or a container does not
 * come back running its recorded image.
 */
export async function startParkedSlot(engine: DockerEngine, spec: ReleaseSpec, slot: Slot): Promise<SlotInspection[]> {
  const parked = await inspectSlot(engine, spec.prefix, slot);
  const missing = parked.filter((c) => !c.exists).map((c) => c.name);
  if (missing.length > 0) {
    throw new DeployError(
      `Nothing is parked in the ${slot} slot (${missing.join(', ')} missing), so it cannot be started for a rollback`,
      `release ${spec.image.releaseId} again from its image instead (its containers are recreated by startSlot)`,
    );
  }
  const stopped = parked.filter((c) => c.exists && !c.running).map((c) => c.name);
  if (stopped.length > 0) await engine.run(['start', ...stopped]);
  const containers = stopped.length > 0 ? await inspectSlot(engine, spec.prefix, slot) : parked;
  const problems = containers.flatMap((c) =>
    c.exists && c.labelledImageId
      ? findSlotProblems([c], { imageId: c.labelledImageId, releaseId: spec.image.releaseId })
      : [`${c.name}: has no tk.image-id label; it was not started by the toolkit`],
  );
  if (problems.length > 0) {
    throw new DeployError(
      `The parked ${slot} slot did not come back as release ${spec.image.releaseId}:\n  ${problems.join('\n  ')}`,
      containers.map((c) => `docker logs ${c.name}`).join('; '),
    );
  }
  return containers;
}

/** `docker rm` of containers with their anonymous volumes (the image's VOLUME /data). */
export function planRemoveContainers(names: readonly string[]): string[] {
  return ['rm', '--force', '--volumes', ...names];
}

/** Removes containers (and their anonymous volumes); names that do not exist are fine. */
export async function removeContainers(engine: DockerEngine, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const args = planRemoveContainers(names);
  const result = await engine.exec(args);
  const errors = result.stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !/no such container/i.test(line));
  if (result.exitCode !== 0 && errors.length > 0) throw new DockerCommandError(args, result);
}

/** Deletes the slot's containers for good (not for rollback targets: park those). */
export function removeSlot(engine: DockerEngine, spec: ReleaseSpec, slot: Slot): Promise<void> {
  return removeContainers(engine, slotContainers(spec.prefix, slot).map((c) => c.name));
}
