import * as command from '@pulumi/command';
import type * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import { NOTIFY_ENV } from '../../components/notifications/settings.js';
import type { ReleasePlan } from '../../components/release/plan.js';
import type { ReleaseSpec } from './spec.js';
import type { DockerStackConfig } from '../config.js';
import type { DeploymentTarget, ReleaseStatus, TargetEndpoints } from '../types.js';
import { AppImage, planAppImageBuild, releaseImageOf } from './image.js';
import type { ImageTag } from './image-tag.js';
import { DockerInfrastructure, createDockerProvider } from './infrastructure.js';
import { databaseUrl, planDockerInfrastructure } from './infrastructure-spec.js';
import { RELEASE_PLAN_ENV, ROLLBACK_TO_ENV, releaseCli } from '../release-command-line.js';
import { canonicalJson, parseReleaseSummary, rollbackInstructions, secretsDigest } from '../release-command.js';
import { planOfDockerSpec } from './release-plan.js';
import { DockerMonitoring, planDockerMonitoring, postgresExporterDsn } from './monitoring/index.js';
import { planReleaseSpec, specHash } from './release-spec.js';

export interface DockerTargetArgs {
  /** The validated stack config (providers/config.ts), provider docker. */
  config: DockerStackConfig;
  /** The release tag of this commit (image-tag.ts), computed before any resource is declared. */
  imageTag: ImageTag;
  /** Build context of app/Dockerfile. @default "." (the project folder: the repository root) */
  buildContext?: string;
}

/**
 * A TrapperKeeper stack on one Docker engine (local socket, tcp:// or ssh://): the stable
 * infrastructure, the app image of this commit, and the release that puts it live through the
 * release CLI (blue-green behind Caddy). `pulumi up` on an unchanged commit and config changes
 * nothing; a new commit or config runs one release.
 *
 * @example
 * const config = loadStackConfig();
 * const target = new DockerTarget('tk', { config, imageTag });
 * export const url = target.endpoints.publicHttpUrl;
 */
export class DockerTarget extends pulumi.ComponentResource implements DeploymentTarget {
  readonly provider = 'docker' as const;
  readonly dockerProvider: docker.Provider;
  readonly infrastructure: DockerInfrastructure;
  readonly appImage: AppImage;
  readonly image: DeploymentTarget['image'];
  /** Runs `release deploy`; replaced (so run again) when the release, its spec or a secret changes. */
  readonly release: command.local.Command;
  /** Runs `release destroy` when the stack is destroyed; nothing on create. */
  readonly cleanup: command.local.Command;
  readonly releaseSpec: ReleaseSpec;
  /** What the release process receives (TK_RELEASE_PLAN) and every slot keeps in its labels. */
  readonly releasePlan: ReleasePlan;
  readonly endpoints: TargetEndpoints;
  readonly status: ReleaseStatus;
  readonly rollbackCommand: pulumi.Output<string>;
  /** Prometheus, Alertmanager, Grafana and the exporters; only with monitoring.enabled. */
  readonly monitoring?: DockerMonitoring;

  constructor(name: string, args: DockerTargetArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('trapperkeeper:docker:Target', name, {}, opts);
    const { config, imageTag } = args;

    const infrastructureSpec = planDockerInfrastructure(config);
    const build = planAppImageBuild({ prefix: infrastructureSpec.prefix, tag: imageTag, images: config.docker.images, ...(args.buildContext ? { context: args.buildContext } : {}) });
    this.releaseSpec = planReleaseSpec(config, releaseImageOf(build, imageTag), infrastructureSpec);
    this.releasePlan = planOfDockerSpec(this.releaseSpec);

    this.dockerProvider = createDockerProvider(name, infrastructureSpec.dockerHost, this);
    this.infrastructure = new DockerInfrastructure(
      `${name}-infra`,
      { spec: infrastructureSpec, secrets: config.secrets, provider: this.dockerProvider },
      { parent: this },
    );
    this.monitoring = createMonitoring(name, config, infrastructureSpec, this.infrastructure, this.dockerProvider, this);
    this.appImage = new AppImage(`${name}-app-image`, { build, provider: this.dockerProvider }, { parent: this });
    this.image = { resource: this.appImage.image, ref: pulumi.output(build.imageName) };

    const databaseUrlSecret = pulumi.secret(config.secrets.postgresPassword.apply((password) => databaseUrl(infrastructureSpec, password)));
    const rollbackTo = config.release.rollbackTo;
    if (rollbackTo !== undefined) {
      pulumi.log.warn(
        `release.rollbackTo pins release ${rollbackTo}: this commit's release ${this.releaseSpec.image.releaseId} is not deployed. ` +
          `To release it: pulumi config rm --path release.rollbackTo && pulumi up`,
        this,
      );
    }
    const environment = {
      [RELEASE_PLAN_ENV]: canonicalJson(this.releasePlan),
      TK_DATABASE_URL: databaseUrlSecret,
      TK_HMAC_SECRET: config.secrets.hmacSecret,
      ...(rollbackTo !== undefined ? { [ROLLBACK_TO_ENV]: rollbackTo } : {}),
    };
    // The summary on stdout becomes the outputs; showing it too would only repeat what the
    // one-line-per-step progress on stderr already said.
    const logging = command.types.enums.local.Logging.Stderr;

    this.release = new command.local.Command(
      `${name}-release`,
      {
        create: releaseCli('deploy'),
        update: releaseCli('deploy'),
        // The sinks (URLs, secrets) travel as one secret variable, never in the plan.
        environment: { ...environment, ...(config.notifications.env ? { [NOTIFY_ENV]: config.notifications.env } : {}) },
        logging,
        triggers: [
          this.releaseSpec.image.releaseId,
          specHash(this.releaseSpec),
          ...(rollbackTo !== undefined ? [rollbackTo] : []),
          pulumi.secret(pulumi.all([databaseUrlSecret, config.secrets.hmacSecret]).apply((values) => secretsDigest(values))),
        ],
      },
      // The release runs only once PostgreSQL is healthy, Caddy is up and the image is built.
      // With monitoring, the release also writes into Prometheus' and node-exporter's containers.
      { parent: this, dependsOn: [this.infrastructure, this.appImage, ...(this.monitoring ? [this.monitoring] : [])] },
    );

    // Its own resource: `release` is replaced on every release, and a replaced command's
    // `delete` runs, which must not tear the deployment down.
    this.cleanup = new command.local.Command(
      `${name}-cleanup`,
      { delete: releaseCli('destroy'), environment, logging },
      { parent: this, dependsOn: [this.infrastructure] },
    );

    // Outputs are read from what the release reported; the apply has no side effects.
    const summary = this.release.stdout.apply(parseReleaseSummary);
    this.status = {
      liveSlot: summary.apply((s) => s.liveSlot),
      liveRelease: summary.apply((s) => s.liveRelease),
      previousRelease: summary.apply((s) => s.previousRelease),
      latestSnapshot: summary.apply((s) => s.latestSnapshot),
    };
    this.rollbackCommand = summary.apply((s) => rollbackInstructions(config.stack, s.previousRelease, rollbackTo));
    this.endpoints = {
      publicHttpUrl: pulumi.output(infrastructureSpec.endpoints.publicHttpUrl),
      publicGrpcAddress: pulumi.output(infrastructureSpec.endpoints.publicGrpcAddress),
      ...(this.monitoring ? { grafanaUrl: this.monitoring.grafanaUrl } : {}),
    };

    this.registerOutputs({
      publicHttpUrl: this.endpoints.publicHttpUrl,
      publicGrpcAddress: this.endpoints.publicGrpcAddress,
      image: this.image.ref,
      liveSlot: this.status.liveSlot,
      liveRelease: this.status.liveRelease,
    });
  }
}

/** The monitoring containers when monitoring.enabled (the config guarantees the Grafana password then). */
function createMonitoring(
  name: string,
  config: DockerStackConfig,
  infrastructureSpec: ReturnType<typeof planDockerInfrastructure>,
  infrastructure: DockerInfrastructure,
  provider: docker.Provider,
  parent: pulumi.Resource,
): DockerMonitoring | undefined {
  if (!config.monitoring.enabled) return undefined;
  const grafanaAdminPassword = config.secrets.grafanaAdminPassword;
  if (!grafanaAdminPassword) throw new Error('monitoring.enabled without a Grafana admin password: providers/config.ts lets no such config through (a bug)');
  return new DockerMonitoring(
    `${name}-monitoring`,
    {
      spec: planDockerMonitoring(infrastructureSpec, { settings: config.monitoring, ephemeral: config.ephemeral }),
      provider,
      network: infrastructure.network.name,
      secrets: {
        grafanaAdminPassword,
        postgresExporterDsn: pulumi.secret(config.secrets.postgresPassword.apply((password) => postgresExporterDsn(infrastructureSpec, password))),
      },
    },
    { parent },
  );
}
