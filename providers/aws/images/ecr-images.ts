import { BatchDeleteImageCommand, DescribeImagesCommand, type ECRClient, type ImageDetail } from '@aws-sdk/client-ecr';
import { DeployError } from '../../../components/errors.js';
import type { ReleasePlan } from '../../../components/release/plan.js';
import type { ImagesPort } from '../../../components/release/ports.js';

/**
 * The ImagesPort on ECR: release images are tags of the stack's repository (`tk-<stack>/trapperkeeper:<tag>`,
 * immutable). Pruning keeps the newest `keepReleases` pushed tags and, whatever their age, every
 * tag a slot runs (the live release and the parked rollback target) and the one being released.
 */
export function repositoryOf(ref: string): { repository: string; tag: string } {
  const path = ref.includes('.amazonaws.com/') ? ref.slice(ref.indexOf('/') + 1) : ref;
  const colon = path.lastIndexOf(':');
  if (colon <= 0) throw new DeployError(`The release image ${ref} names no tag`, 'release again with `pulumi up`');
  return { repository: path.slice(0, colon), tag: path.slice(colon + 1) };
}

async function describeTag(ecr: ECRClient, ref: string): Promise<ImageDetail | undefined> {
  const { repository, tag } = repositoryOf(ref);
  try {
    return (await ecr.send(new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: tag }] }))).imageDetails?.[0];
  } catch (error) {
    if ((error as { name?: string }).name === 'ImageNotFoundException') return undefined;
    throw error;
  }
}

async function allImages(ecr: ECRClient, repository: string): Promise<ImageDetail[]> {
  const images: ImageDetail[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecr.send(new DescribeImagesCommand({ repositoryName: repository, filter: { tagStatus: 'TAGGED' }, nextToken }));
    images.push(...(page.imageDetails ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return images;
}

/** Pure: the tags to delete: beyond the newest `keep` pushed, never one in `inUse`. */
export function tagsToPrune(images: readonly ImageDetail[], keep: number, inUse: ReadonlySet<string>): string[] {
  const newestFirst = [...images].sort((a, b) => (b.imagePushedAt?.getTime() ?? 0) - (a.imagePushedAt?.getTime() ?? 0));
  return newestFirst.slice(keep).flatMap((image) => (image.imageTags ?? []).every((tag) => !inUse.has(tag)) ? (image.imageTags ?? []) : []);
}

export function ecrImages(ecr: ECRClient, options: { inUse: () => Promise<string[]> }): ImagesPort {
  return {
    async exists(plan: ReleasePlan) {
      return (await describeTag(ecr, plan.image.ref)) !== undefined;
    },
    async builtAt(plan: ReleasePlan) {
      const image = await describeTag(ecr, plan.image.ref);
      if (!image?.imagePushedAt) throw new DeployError(`The image ${plan.image.ref} is not in ECR any more`, 'release that commit again with `pulumi up` (it builds and pushes the image)');
      // ECR records when a tag was pushed: `pulumi up` pushes right after building, before its release migrates.
      return image.imagePushedAt;
    },
    async prune(plan: ReleasePlan) {
      const { repository, tag } = repositoryOf(plan.image.ref);
      const inUse = new Set([tag, ...(await options.inUse()).map((ref) => repositoryOf(ref).tag)]);
      const doomed = tagsToPrune(await allImages(ecr, repository), plan.keepReleases, inUse);
      if (doomed.length === 0) return { removed: [] };
      const removed: string[] = [];
      for (let at = 0; at < doomed.length; at += 100) {
        const result = await ecr.send(new BatchDeleteImageCommand({ repositoryName: repository, imageIds: doomed.slice(at, at + 100).map((imageTag) => ({ imageTag })) }));
        removed.push(...(result.imageIds ?? []).map((id) => `${repository}:${id.imageTag}`));
      }
      return { removed };
    },
  };
}
