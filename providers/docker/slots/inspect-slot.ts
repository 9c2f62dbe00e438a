import { DockerCommandError, type DockerEngine } from '../engine.js';
import type { AppService, Slot } from '../spec.js';
import { SLOT_LABELS, slotContainers } from './names.js';

/** One slot container as Docker reports it; `exists: false` when there is none. */
export type SlotInspection =
  | { service: AppService; name: string; exists: false }
  | {
      service: AppService;
      name: string;
      exists: true;
      /** The image id the container runs (`sha256:...`). */
      imageId: string;
      /** created | running | restarting | paused | exited | dead */
      state: string;
      running: boolean;
      exitCode: number;
      restartCount: number;
      releaseId: string | null;
      version: string | null;
      /** The image id recorded in the `tk.image-id` label when the slot was started. */
      labelledImageId: string | null;
    };

interface DockerInspectJson {
  Image?: string;
  RestartCount?: number;
  State?: { Status?: string; Running?: boolean; ExitCode?: number };
  Config?: { Labels?: Record<string, string> | null };
}

/** Reads `docker container inspect` output (a JSON array of one container). */
export function parseContainerInspect(service: AppService, name: string, stdout: string): SlotInspection {
  const [container] = JSON.parse(stdout) as DockerInspectJson[];
  if (!container) return { service, name, exists: false };
  const labels = container.Config?.Labels ?? {};
  return {
    service,
    name,
    exists: true,
    imageId: container.Image ?? '',
    state: container.State?.Status ?? 'unknown',
    running: container.State?.Running === true,
    exitCode: container.State?.ExitCode ?? 0,
    restartCount: container.RestartCount ?? 0,
    releaseId: labels[SLOT_LABELS.release] ?? null,
    version: labels[SLOT_LABELS.version] ?? null,
    labelledImageId: labels[SLOT_LABELS.imageId] ?? null,
  };
}

export async function inspectContainer(engine: DockerEngine, service: AppService, name: string): Promise<SlotInspection> {
  const args = ['container', 'inspect', name];
  const result = await engine.exec(args);
  if (result.exitCode !== 0) {
    if (/no such (container|object)/i.test(result.stderr)) return { service, name, exists: false };
    throw new DockerCommandError(args, result);
  }
  return parseContainerInspect(service, name, result.stdout);
}

/** The slot's containers (release id, image id, state), one per service. */
export function inspectSlot(engine: DockerEngine, prefix: string, slot: Slot): Promise<SlotInspection[]> {
  return Promise.all(slotContainers(prefix, slot).map(({ service, name }) => inspectContainer(engine, service, name)));
}

/**
 * Why the slot is not running the intended release, one line per problem; empty when every
 * container exists, runs and runs exactly `imageId` labelled with `releaseId`.
 */
export function findSlotProblems(containers: readonly SlotInspection[], intended: { imageId: string; releaseId: string }): string[] {
  const problems: string[] = [];
  for (const container of containers) {
    if (!container.exists) {
      problems.push(`${container.name}: no such container`);
      continue;
    }
    if (container.imageId !== intended.imageId) {
      problems.push(`${container.name}: runs image ${container.imageId}, not the release image ${intended.imageId}`);
    }
    if (container.releaseId !== intended.releaseId) {
      problems.push(`${container.name}: labelled release ${container.releaseId ?? '(none)'}, not ${intended.releaseId}`);
    }
    if (!container.running) {
      problems.push(`${container.name}: ${container.state} (exit code ${container.exitCode}), not running`);
    }
  }
  return problems;
}
