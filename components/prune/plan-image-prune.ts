import { DeployError } from '../errors.js';

/** Release images kept by default (`rollback --to` targets), besides the live and previous ones. */

/** One image of the stack's repository. */
export interface StackImage {
  /** `sha256:...` */
  id: string;
  /** ISO 8601 creation time (`docker image inspect .Created`). */
  createdAt: string;
  /** Its tags in the stack's repository (`repo:tag`); only these are removed. */
  refs: string[];
}

export type KeepReason = 'live' | 'previous' | 'in-use' | 'recent';

export interface ImagePrunePlan {
  keep: { image: StackImage; reasons: KeepReason[] }[];
  remove: StackImage[];
}

export interface ImagePruneOptions {
  /** Newest release images kept (the stack's release.keepReleases). */
  keep: number;
  /** Image id of the live slot: kept whatever its age. */
  live: string | null;
  /** Image id of the previous (parked) slot, the rollback target: kept whatever its age. */
  previous: string | null;
  /** Image ids any container of the stack uses: kept too. */
  inUse?: readonly string[];
}

function createdMs(image: StackImage): number {
  const ms = Date.parse(image.createdAt);
  return Number.isNaN(ms) ? 0 : ms;
}

/**
 * Which release images to keep: the newest `keep` by creation time, and never the live or
 * previous slot's image (nor one a container uses) even when older. Everything else goes.
 */
export function planImagePrune(images: readonly StackImage[], options: ImagePruneOptions): ImagePrunePlan {
  const { keep } = options;
  if (!Number.isInteger(keep) || keep < 1) {
    throw new DeployError(`keepReleases: must be a whole number of at least 1, got ${keep}`, 'set keepReleases to 1 or more in the stack config');
  }
  const newestFirst = [...images].sort((a, b) => createdMs(b) - createdMs(a) || a.id.localeCompare(b.id));
  const inUse = new Set(options.inUse ?? []);
  const plan: ImagePrunePlan = { keep: [], remove: [] };
  newestFirst.forEach((image, index) => {
    const reasons: KeepReason[] = [];
    if (image.id === options.live) reasons.push('live');
    if (image.id === options.previous) reasons.push('previous');
    if (inUse.has(image.id)) reasons.push('in-use');
    if (index < keep) reasons.push('recent');
    if (reasons.length > 0) plan.keep.push({ image, reasons });
    else plan.remove.push(image);
  });
  return plan;
}
