import { createHash } from 'node:crypto';
import type { ReleaseImage, ReleaseSpec } from './spec.js';
import type { DockerStackConfig } from '../config.js';
import type { DockerInfrastructureSpec } from './infrastructure-spec.js';
import { SNAPSHOTS_DIR, planDockerInfrastructure } from './infrastructure-spec.js';
import { canonicalJson } from '../release-command.js';
import { MONITORED_APP_ENV, planMonitoringRelease } from './monitoring/release-target.js';

/**
 * A release is an image AND the config it runs with. The release id is the image tag plus, as
 * semver build metadata, a digest of the rest of the spec: a config-only change is then a new
 * release, which the health gate and the public verification can tell from the one serving.
 */
export function releaseIdentity(spec: ReleaseSpec): string {
  const tag = spec.image.ref.slice(spec.image.ref.lastIndexOf(':') + 1);
  const { image, ...rest } = spec;
  const digest = createHash('sha256').update(canonicalJson({ ...rest, image: { ...image, releaseId: tag } })).digest('hex');
  return `${tag}+cfg.${digest.slice(0, 8)}`;
}

/** The digest of a whole spec: the Docker release command runs again whenever it changes. */
export function specHash(spec: ReleaseSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}

/**
 * Secret variables the release process holds in its environment and forwards to the app
 * containers by name (`-e NAME`). Their values never enter the ReleaseSpec.
 */
export const RELEASE_SECRET_ENV = ['TK_DATABASE_URL', 'TK_HMAC_SECRET'] as const;
export type ReleaseSecretEnv = (typeof RELEASE_SECRET_ENV)[number];

export type ReleaseSpecInput = Pick<DockerStackConfig, 'stack' | 'docker' | 'database' | 'ephemeral' | 'release' | 'snapshots' | 'app'> & {
  /** Only `enabled` matters here. @default off */
  monitoring?: Pick<DockerStackConfig['monitoring'], 'enabled'>;
};

/** Pure: the ReleaseSpec of a Docker stack for one image (its release id per releaseIdentity). */
export function planReleaseSpec(config: ReleaseSpecInput, image: ReleaseImage, infrastructure: DockerInfrastructureSpec = planDockerInfrastructure(config)): ReleaseSpec {
  const spec = planSpecFields(config, image, infrastructure);
  return { ...spec, image: { ...spec.image, releaseId: releaseIdentity(spec) } };
}

function planSpecFields(config: ReleaseSpecInput, image: ReleaseImage, infrastructure: DockerInfrastructureSpec): ReleaseSpec {
  return {
    stack: config.stack,
    prefix: infrastructure.prefix,
    ...(infrastructure.dockerHost !== undefined ? { dockerHost: infrastructure.dockerHost } : {}),
    network: infrastructure.network.name,
    image,
    appEnv: { TK_LOG_LEVEL: config.app.logLevel, ...(config.monitoring?.enabled ? MONITORED_APP_ENV : {}) },
    secretEnv: [...RELEASE_SECRET_ENV],
    database: {
      container: infrastructure.postgres.name,
      name: config.database.name,
      user: config.database.user,
    },
    snapshots: {
      dir: SNAPSHOTS_DIR,
      retentionDays: config.snapshots.retentionDays,
      lockWaitTimeoutMs: config.snapshots.lockWaitTimeoutMs,
    },
    proxy: {
      container: infrastructure.caddy.name,
      ...infrastructure.endpoints,
      ...(infrastructure.tls ? { tls: infrastructure.tls } : {}),
    },
    gate: { ...config.release.gate },
    drainTimeoutMs: config.release.drainTimeoutMs,
    standby: config.release.standby,
    keepReleases: config.release.keepReleases,
    lock: { waitMs: config.release.lockWaitMs },
    ephemeral: config.ephemeral,
    ...(config.monitoring?.enabled ? { monitoring: planMonitoringRelease(infrastructure.prefix) } : {}),
  };
}
