export { DockerTarget, type DockerTargetArgs } from './target.js';
export { DockerInfrastructure, createDockerProvider, type DockerInfrastructureArgs } from './infrastructure.js';
export {
  planDockerInfrastructure,
  planEndpoints,
  databaseUrl,
  stackPrefix,
  POSTGRES_NETWORK_ALIAS,
  SNAPSHOTS_DIR,
  INFRA_LABELS,
  VOLUME_KEYS,
  type DockerInfrastructureSpec,
  type ContainerSpec,
  type VolumeSpec,
  type PublishedPort,
  type Endpoints,
} from './infrastructure-spec.js';
export { AppImage, planAppImageBuild, appImageRepository, APP_DOCKERFILE, type AppImageBuild } from './image.js';
export { planImageTag, readGitFacts, readAppVersion, tagTimestamp, type ImageTag, type GitFacts } from './image-tag.js';
export { planReleaseSpec, RELEASE_SECRET_ENV } from './release-spec.js';
export { dockerSectionSchema, DEFAULT_IMAGES, DEFAULT_PORTS, DEFAULT_BIND_ADDRESS, type DockerSection } from './config.js';
