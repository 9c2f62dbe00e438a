import type { DockerEngine } from '../engine.js';
import { SLOTS, type ReleaseSpec } from '../spec.js';
import { inspectSlot, resolveImageId } from '../slots/index.js';
import { planImagePrune, type ImagePrunePlan, type StackImage } from '../../../components/prune/plan-image-prune.js';

/** The repository part of an image reference: `registry:5000/team/app:tag` -> `registry:5000/team/app`. */
export function imageRepository(ref: string): string {
  const withoutDigest = ref.split('@')[0] ?? ref;
  const colon = withoutDigest.lastIndexOf(':');
  return colon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(0, colon) : withoutDigest;
}

interface ImageInspectJson {
  Id: string;
  Created: string;
  RepoTags?: string[] | null;
}

/** Reads `docker image inspect` output into the images of `repository`. */
export function parseStackImages(repository: string, inspectJson: string): StackImage[] {
  return (JSON.parse(inspectJson) as ImageInspectJson[]).map((image) => ({
    id: image.Id,
    createdAt: image.Created,
    refs: (image.RepoTags ?? []).filter((tag) => imageRepository(tag) === repository).sort(),
  }));
}

/** Every image tagged in `repository` (this stack's release images, nothing else). */
export async function listStackImages(engine: DockerEngine, repository: string): Promise<StackImage[]> {
  const ids = [...new Set((await engine.run(['image', 'ls', '--no-trunc', '--format', '{{.ID}}', repository])).split('\n').map((l) => l.trim()).filter(Boolean))];
  if (ids.length === 0) return [];
  return parseStackImages(repository, await engine.run(['image', 'inspect', ...ids]));
}

export interface PruneResult {
  plan: ImagePrunePlan;
  removed: string[];
  /** Tags Docker refused to remove (e.g. a container of another stack uses the image). */
  failed: { ref: string; error: string }[];
}

/**
 * Removes release images of this stack's repository beyond the newest `spec.keepReleases`,
 * never the release image, nor any image a slot container (live or parked) runs. Only tags of
 * the repository are removed, without --force: never a global prune.
 */
export async function pruneImages(engine: DockerEngine, spec: ReleaseSpec): Promise<PruneResult> {
  const repository = imageRepository(spec.image.ref);
  const live = await resolveImageId(engine, spec.image.ref);
  const slotImages = (await Promise.all(SLOTS.map((slot) => inspectSlot(engine, spec.prefix, slot))))
    .flat()
    .flatMap((c) => (c.exists ? [c.imageId] : []));
  const previous = slotImages.find((id) => id !== live) ?? null;
  const plan = planImagePrune(await listStackImages(engine, repository), {
    keep: spec.keepReleases,
    live,
    previous,
    inUse: slotImages,
  });
  const result: PruneResult = { plan, removed: [], failed: [] };
  for (const ref of plan.remove.flatMap((image) => image.refs)) {
    const outcome = await engine.exec(['image', 'rm', ref]);
    if (outcome.exitCode === 0) result.removed.push(ref);
    else result.failed.push({ ref, error: outcome.stderr.trim() });
  }
  return result;
}
