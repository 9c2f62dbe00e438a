import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import type { ReleaseImage } from '../../components/release/spec.js';
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

/** Pure: what `docker build` gets for a release. Build args carry public metadata only, never a secret. */
export function planAppImageBuild(input: { prefix: string; tag: ImageTag; images: Pick<DockerSection['images'], 'appBuildBase' | 'appRuntimeBase'>; context?: string }): AppImageBuild {
  return {
    imageName: `${appImageRepository(input.prefix)}:${input.tag.tag}`,
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
  return { ref: build.imageName, releaseId: tag.tag, version: tag.version, commit: tag.commit };
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
