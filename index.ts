import * as pulumi from '@pulumi/pulumi';
import { DeployError } from './components/errors.js';
import { loadStackConfig } from './providers/config.js';
import type { GitFacts } from './providers/docker/image-tag.js';
import { planImageTag, readAppVersion, readGitFacts } from './providers/docker/image-tag.js';
import { declareTarget } from './providers/targets.js';

/** Seams for the mocks tests; `pulumi up` passes none. */
export interface ProgramOptions {
  /** The project folder: Pulumi.yaml, .env.<stack>, app/. @default the working directory */
  dir?: string;
  processEnv?: Readonly<Record<string, string | undefined>>;
  git?: GitFacts;
  now?: Date;
}

/**
 * The Pulumi program. Everything a person can get wrong is checked first (the whole config at
 * once, then the git state of the image's sources): a stack that cannot deploy declares nothing.
 */
async function deployStack(options: ProgramOptions) {
  const dir = options.dir ?? process.cwd();
  const config = loadStackConfig({ dir, ...(options.processEnv ? { processEnv: options.processEnv } : {}) });
  const imageTag = planImageTag(
    { version: readAppVersion(dir), git: options.git ?? readGitFacts(dir), now: options.now ?? new Date() },
    { allowDirty: config.release.allowDirty, ...(config.app.version !== undefined ? { pinnedVersion: config.app.version } : {}) },
  );

  const target = await declareTarget('tk', { config, imageTag, buildContext: dir === process.cwd() ? '.' : dir });
  return {
    publicHttpUrl: target.endpoints.publicHttpUrl,
    publicGrpcAddress: target.endpoints.publicGrpcAddress,
    ...(target.endpoints.grafanaUrl ? { grafanaUrl: target.endpoints.grafanaUrl } : {}),
    liveSlot: target.status.liveSlot,
    liveVersion: target.status.liveRelease,
    previousVersion: target.status.previousRelease,
    latestSnapshot: target.status.latestSnapshot,
    image: target.image.ref,
    releasePlan: target.releasePlan,
    rollbackCommand: target.rollbackCommand,
    ...target.targetOutputs,
  };
}

/** Pulumi prints a RunError's message alone: the problems and their fixes, no stack trace. */
export default async function program(options: ProgramOptions = {}) {
  try {
    return await deployStack(options);
  } catch (error) {
    if (error instanceof DeployError) throw Object.assign(new pulumi.RunError(error.message), { cause: error });
    throw error;
  }
}
