import type { ArtifactRegistryClient } from '@google-cloud/artifact-registry';
import { DeployError } from '../../../components/errors.js';
import type { ReleasePlan } from '../../../components/release/plan.js';
import type { ImagesPort } from '../../../components/release/ports.js';

/**
 * The ImagesPort on Artifact Registry: release images are tags of the `trapperkeeper` package in
 * the stack's Docker repository (`<region>-docker.pkg.dev/<project>/<repository>/trapperkeeper:<tag>`).
 * - exists: the tag is in the repository (GetTag);
 * - builtAt: when the tagged image was uploaded (DockerImage.uploadTime): `pulumi up` pushes right
 *   after building, before its release migrates. The image's own buildTime (its config's
 *   `created`) is not used: a cached or reproducible build carries an old or fixed date;
 * - prune: keeps the newest `keepReleases` uploaded images and, whatever their age, the one being
 *   released and every one a slot runs (the live release and the parked rollback target); the
 *   others' versions are deleted with their tags (DeleteVersion, force).
 */
export interface ArtifactImageRef {
  /** projects/<p>/locations/<l>/repositories/<r> */
  repository: string;
  /** The image's name in the repository (`trapperkeeper`). */
  image: string;
  tag: string;
  /** `<host>/<project>/<repository>/<image>`, the ref without its tag. */
  base: string;
}

/** Pure: the Artifact Registry names of a Docker ref on `<location>-docker.pkg.dev`. */
export function artifactImageOf(ref: string): ArtifactImageRef {
  const colon = ref.lastIndexOf(':');
  const slash = ref.lastIndexOf('/');
  const parts = ref.slice(0, colon > slash ? colon : undefined).split('/');
  const host = parts[0] ?? '';
  if (colon <= slash || !host.endsWith('-docker.pkg.dev') || parts.length < 4) {
    throw new DeployError(
      `The release image ${ref} is not a tagged Artifact Registry image (<region>-docker.pkg.dev/<project>/<repository>/<image>:<tag>)`,
      'release again with `pulumi up` (the GCP target names its images in the stack\'s Artifact Registry repository)',
    );
  }
  const [, project, repository, ...image] = parts;
  return {
    repository: `projects/${project}/locations/${host.slice(0, -'-docker.pkg.dev'.length)}/repositories/${repository}`,
    image: image.join('/'),
    tag: ref.slice(colon + 1),
    base: parts.join('/'),
  };
}

/** Artifact Registry escapes slashes of a package name in resource names. */
const packageId = (image: string) => encodeURIComponent(image);

/** An image as ListDockerImages / GetDockerImage return it (only what the port reads). */
export interface ListedImage {
  name?: string | null;
  uri?: string | null;
  tags?: string[] | null;
  uploadTime?: { seconds?: number | string | { toString(): string } | null; nanos?: number | null } | null;
}

const millis = (time: ListedImage['uploadTime']) => (time ? Number(String(time.seconds ?? 0)) * 1000 + Math.floor((time.nanos ?? 0) / 1e6) : 0);
/** `sha256:…` of `…/dockerImages/<image>@sha256:…` or of a uri `…@sha256:…`. */
const digestOf = (image: ListedImage) => (image.uri ?? image.name ?? '').slice((image.uri ?? image.name ?? '').lastIndexOf('@') + 1);

/** Pure: the images to delete: those of `image` beyond the newest `keep` uploaded, never one with a tag in `inUse`. */
export function imagesToPrune(images: readonly ListedImage[], ref: ArtifactImageRef, keep: number, inUse: ReadonlySet<string>): ListedImage[] {
  const ours = images.filter((listed) => (listed.uri ?? '').startsWith(`${ref.base}@`));
  const newestFirst = [...ours].sort((a, b) => millis(b.uploadTime) - millis(a.uploadTime));
  return newestFirst.slice(Math.max(keep, 0)).filter((listed) => (listed.tags ?? []).every((tag) => !inUse.has(tag)));
}

const isNotFound = (error: unknown) => (error as { code?: number }).code === 5;

export function artifactRegistryImages(client: ArtifactRegistryClient, options: { inUse: () => Promise<string[]> }): ImagesPort {
  async function tagged(ref: string): Promise<string | undefined> {
    const image = artifactImageOf(ref);
    try {
      const [tag] = await client.getTag({ name: `${image.repository}/packages/${packageId(image.image)}/tags/${image.tag}` });
      return tag.version ?? undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
  return {
    async exists(plan: ReleasePlan) {
      return (await tagged(plan.image.ref)) !== undefined;
    },
    async builtAt(plan: ReleasePlan) {
      const image = artifactImageOf(plan.image.ref);
      const version = await tagged(plan.image.ref);
      const missing = () => new DeployError(`The image ${plan.image.ref} is not in Artifact Registry any more`, 'release that commit again with `pulumi up` (it builds and pushes the image)');
      if (!version) throw missing();
      const digest = version.slice(version.lastIndexOf('/') + 1);
      const [docker] = await client.getDockerImage({ name: `${image.repository}/dockerImages/${packageId(image.image)}@${digest}` });
      if (!docker.uploadTime) throw missing();
      return new Date(millis(docker.uploadTime));
    },
    async prune(plan: ReleasePlan) {
      const image = artifactImageOf(plan.image.ref);
      const inUse = new Set([image.tag, ...(await options.inUse()).flatMap((ref) => (ref.startsWith(`${image.base}:`) ? [ref.slice(image.base.length + 1)] : []))]);
      // The client pages through every image of the repository.
      const [listed] = await client.listDockerImages({ parent: image.repository });
      const removed: string[] = [];
      for (const doomed of imagesToPrune(listed, image, plan.keepReleases, inUse)) {
        const [operation] = await client.deleteVersion({ name: `${image.repository}/packages/${packageId(image.image)}/versions/${digestOf(doomed)}`, force: true });
        await operation.promise();
        removed.push(...((doomed.tags ?? []).length > 0 ? (doomed.tags ?? []).map((tag) => `${image.base}:${tag}`) : [`${image.base}@${digestOf(doomed)}`]));
      }
      return { removed };
    },
  };
}
