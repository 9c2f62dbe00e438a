import type { DockerEngine } from '../../providers/docker/engine.js';
import { DeployError } from '../errors.js';
import { SLOT_LABELS, slotContainerName } from '../slots/index.js';
import type { ReleaseImage, ReleaseSpec, Slot } from './spec.js';

/**
 * Every slot container carries the (secret-free) ReleaseSpec it was started with as a label
 * (SLOT_LABELS.spec), so rollback works from the Docker host alone: no stack outputs, no config.
 */
const SPEC_LABEL = SLOT_LABELS.spec;

export interface SlotRecord {
  slot: Slot;
  spec: ReleaseSpec;
  /** When the slot's containers were created (the release's start). */
  createdAt: Date;
}

export function parseSlotRecord(slot: Slot, inspectJson: string): SlotRecord | undefined {
  const [container] = JSON.parse(inspectJson) as { Created?: string; Config?: { Labels?: Record<string, string> } }[];
  const label = container?.Config?.Labels?.[SPEC_LABEL];
  if (!container || !label) return undefined;
  return { slot, spec: JSON.parse(label) as ReleaseSpec, createdAt: new Date(container.Created ?? 0) };
}

/** The release a slot holds (running or parked), or undefined when the slot is empty. */
export async function readSlotRecord(engine: DockerEngine, prefix: string, slot: Slot): Promise<SlotRecord | undefined> {
  const name = slotContainerName(prefix, slot, 'web-ui');
  const result = await engine.exec(['container', 'inspect', name]);
  if (result.exitCode !== 0) {
    if (/no such (container|object)/i.test(result.stderr)) return undefined;
    throw new DeployError(`Cannot inspect ${name}: ${result.stderr.trim()}`, 'check that the Docker engine answers (docker info)');
  }
  return parseSlotRecord(slot, result.stdout);
}

/**
 * The image of an earlier release for `rollback --to`: a release id is an image tag
 * (`<semver>-<sha>-<timestamp>`) of the stack's own repository, optionally followed by
 * `+cfg.<digest>` (the config it ran with, which does not change the image).
 */
export function imageForRelease(current: ReleaseImage, releaseId: string): ReleaseImage {
  const repository = current.ref.slice(0, current.ref.lastIndexOf(':'));
  const tag = releaseId.split('+')[0]!;
  const match = /^(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)-([0-9a-f]{7,40})-/.exec(tag);
  if (!match) {
    throw new DeployError(`"${releaseId}" is not a release id (<semver>-<git sha>-<timestamp>)`, 'list the kept releases with `docker images ' + repository + '`');
  }
  return { ref: `${repository}:${tag}`, releaseId, version: match[1]!, commit: match[2]! };
}
