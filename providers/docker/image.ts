import { createHash } from 'node:crypto';
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import type { ReleaseImage } from './spec.js';
import type { DockerSection } from './config.js';
import type { ImageTag } from './image-tag.js';

/** app/Dockerfile, built from the repository root (its context needs the root lockfile and migrations/). */
export const APP_DOCKERFILE = 'app/Dockerfile';

/** `tk-<stack>/trapperkeeper`: each stack's releases under their own name, so pruning one never touches another. */
export function appImageRepository(prefix: string): string {
  return `${prefix}/trapperkeeper`;
}

export interface AppImageBuild {
  imageName: string;
  context: string;
  dockerfile: string;
  args: Record<string, string>;
}

type BaseImages = Pick<DockerSection['images'], 'appBuildBase' | 'appRuntimeBase'>;

/**
 * What the commit does not fix about an image: its base images, as 8 hex digits. It ends the
 * image tag, so another base (docker.images.appRuntimeBase: node:22, say) is another image and
 * another release, never new contents under a tag that running or parked slots already use.
 */
export function baseImagesDigest(images: BaseImages): string {
  return createHash('sha256').update(`${images.appBuildBase}\0${images.appRuntimeBase}`).digest('hex').slice(0, 8);
}

/** `<release tag>-b<base images digest>`: the tag of the image a commit builds on these bases. */
export function appImageTag(tag: ImageTag, images: BaseImages): string {
  return `${tag.tag}-b${baseImagesDigest(images)}`;
}

/** Pure: what `docker build` gets for a release. Build args carry public metadata only, never a secret. */
export function planAppImageBuild(input: { prefix: string; tag: ImageTag; images: BaseImages; context?: string }): AppImageBuild {
  return {
    imageName: `${appImageRepository(input.prefix)}:${appImageTag(input.tag, input.images)}`,
    context: input.context ?? '.',
    dockerfile: APP_DOCKERFILE,
    args: {
      BUILD_IMAGE: input.images.appBuildBase,
      RUNTIME_IMAGE: input.images.appRuntimeBase,
      VERSION: input.tag.version,
      REVISION: input.tag.commit,
      CREATED: input.tag.created,
    },
  };
}

export function releaseImageOf(build: AppImageBuild, tag: ImageTag): ReleaseImage {
  return { ref: build.imageName, releaseId: build.imageName.slice(build.imageName.lastIndexOf(':') + 1), version: tag.version, commit: tag.commit };
}

export interface AppImageArgs {
  build: AppImageBuild;
  provider: docker.Provider;
}

/**
 * The app image of a release, built on the stack's Docker engine and kept there (no registry: the
 * engine that builds it runs it). The same tag means the same commit, so an unchanged commit
 * declares the same image and `pulumi up` rebuilds nothing.
 */
export class AppImage extends pulumi.ComponentResource {
  readonly image: docker.Image;
  readonly imageName: string;

  constructor(name: string, args: AppImageArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('trapperkeeper:docker:AppImage', name, {}, opts);
    this.imageName = args.build.imageName;
    this.image = new docker.Image(
      name,
      {
        imageName: args.build.imageName,
        skipPush: true,
        buildOnPreview: false,
        build: {
          context: args.build.context,
          dockerfile: args.build.dockerfile,
          args: args.build.args,
          builderVersion: 'BuilderBuildKit',
        },
      },
      { parent: this, provider: args.provider },
    );
    this.registerOutputs({ imageName: this.imageName, repoDigest: this.image.repoDigest });
  }
}
