import { createHash } from 'node:crypto';
import * as aws from '@pulumi/aws';
import * as command from '@pulumi/command';
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import { NOTIFY_ENV } from '../../components/notifications/settings.js';
import type { ReleasePlan } from '../../components/release/plan.js';
import type { AwsStackConfig } from '../config.js';
import type { ImageTag } from '../docker/image-tag.js';
import { canonicalJson, parseReleaseSummary, rollbackInstructions, secretsDigest } from '../release-command.js';
import { RELEASE_PLAN_ENV, ROLLBACK_TO_ENV, releaseCli } from '../release-command-line.js';
import type { DeploymentTarget, ReleaseStatus, TargetEndpoints } from '../types.js';
import { AwsInfrastructure } from './infrastructure.js';
import { awsNames } from './names.js';
import { AWS_LISTENER_PORTS, planAwsRelease } from './release-plan.js';

/** app/Dockerfile, built from the repository root (its context needs the root lockfile and migrations/). */
export const APP_DOCKERFILE = 'app/Dockerfile';
/** Fargate tasks run linux/amd64 (TASK_SIZE's runtime platform): the image is built for it wherever `pulumi up` runs. */
export const IMAGE_PLATFORM = 'linux/amd64';

export interface AwsTargetArgs {
  /** The validated stack config (providers/config.ts), provider aws. */
  config: AwsStackConfig;
  /** The release tag of this commit (image-tag.ts), computed before any resource is declared. */
  imageTag: ImageTag;
  /** Build context of app/Dockerfile. @default "." (the repository root) */
  buildContext?: string;
}

/**
 * A TrapperKeeper stack on AWS: ECS Fargate services behind an Application Load Balancer, RDS
 * PostgreSQL, secrets in Secrets Manager, the app image in ECR, and the release that puts this
 * commit live through the release CLI, blue-green by the load balancer's weights.
 *
 * @example
 * const config = loadStackConfig();            // provider: aws
 * const target = new AwsTarget('tk', { config, imageTag });
 * export const url = target.endpoints.publicHttpUrl;
 */
export class AwsTarget extends pulumi.ComponentResource implements DeploymentTarget {
  readonly provider = 'aws' as const;
  readonly awsProvider: aws.Provider;
  readonly infrastructure: AwsInfrastructure;
  readonly appImage: docker.Image;
  readonly image: DeploymentTarget['image'];
  readonly release: command.local.Command;
  readonly cleanup: command.local.Command;
  readonly releasePlan: ReleasePlan;
  readonly endpoints: TargetEndpoints;
  readonly status: ReleaseStatus;
  readonly rollbackCommand: pulumi.Output<string>;
  /** Where the DNS record of aws.domain must point (a CNAME or an alias). */
  readonly loadBalancerDnsName: pulumi.Output<string>;
  readonly targetOutputs: Readonly<Record<string, pulumi.Output<string>>>;

  constructor(name: string, args: AwsTargetArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('trapperkeeper:aws:Target', name, {}, opts);
    const { config, imageTag } = args;
    // The stack's own provider: its region is the config's, whatever AWS_REGION says.
    this.awsProvider = new aws.Provider(`${name}-aws`, { region: config.aws.region as aws.Region, defaultTags: { tags: { 'trapperkeeper:stack': config.stack } } }, { parent: this });
    const names = awsNames(config.stack, config.aws.region, config.aws.snapshotBucket);
    this.releasePlan = planAwsRelease(config, imageTag);

    this.infrastructure = new AwsInfrastructure(
      `${name}-infra`,
      { config, names, ports: AWS_LISTENER_PORTS, release: { releaseId: this.releasePlan.image.releaseId, tag: imageTag.tag, appEnv: this.releasePlan.appEnv }, secrets: config.secrets },
      { parent: this, providers: { aws: this.awsProvider } },
    );
    this.appImage = this.createImage(name, args);
    this.image = { resource: this.appImage, ref: this.appImage.imageName };

    const rollbackTo = config.release.rollbackTo;
    if (rollbackTo !== undefined) {
      pulumi.log.warn(`release.rollbackTo pins release ${rollbackTo}: this commit's release ${this.releasePlan.image.releaseId} is not deployed. To release it: pulumi config rm --path release.rollbackTo && pulumi up`, this);
    }
    // The release process gets the plan only: the tasks read their secrets from Secrets Manager.
    const environment = { [RELEASE_PLAN_ENV]: canonicalJson(this.releasePlan), ...(rollbackTo !== undefined ? { [ROLLBACK_TO_ENV]: rollbackTo } : {}) };
    const logging = command.types.enums.local.Logging.Stderr;
    this.release = new command.local.Command(
      `${name}-release`,
      {
        create: releaseCli('deploy'),
        update: releaseCli('deploy'),
        environment: { ...environment, ...(config.notifications.env ? { [NOTIFY_ENV]: config.notifications.env } : {}) },
        logging,
        triggers: [
          this.releasePlan.image.releaseId,
          createHash('sha256').update(canonicalJson(this.releasePlan)).digest('hex'),
          ...(rollbackTo !== undefined ? [rollbackTo] : []),
          // A new secret value reaches running tasks only when they start again: a release.
          pulumi.secret(pulumi.all([config.secrets.postgresPassword, config.secrets.hmacSecret]).apply((values) => secretsDigest(values))),
        ],
      },
      { parent: this, dependsOn: [this.infrastructure, this.appImage] },
    );
    this.cleanup = new command.local.Command(`${name}-cleanup`, { delete: releaseCli('destroy'), environment, logging }, { parent: this, dependsOn: [this.infrastructure] });

    const summary = this.release.stdout.apply(parseReleaseSummary);
    this.status = {
      liveSlot: summary.apply((s) => s.liveSlot),
      liveRelease: summary.apply((s) => s.liveRelease),
      previousRelease: summary.apply((s) => s.previousRelease),
      latestSnapshot: summary.apply((s) => s.latestSnapshot),
    };
    this.rollbackCommand = summary.apply((s) => rollbackInstructions(config.stack, s.previousRelease, rollbackTo));
    this.endpoints = {
      publicHttpUrl: pulumi.output(this.releasePlan.endpoints.publicHttpUrl),
      publicGrpcAddress: pulumi.output(this.releasePlan.endpoints.publicGrpcAddress),
    };
    this.loadBalancerDnsName = this.infrastructure.loadBalancer.loadBalancer.dnsName;
    this.targetOutputs = { loadBalancerDnsName: this.loadBalancerDnsName };

    this.registerOutputs({
      publicHttpUrl: this.endpoints.publicHttpUrl,
      publicGrpcAddress: this.endpoints.publicGrpcAddress,
      loadBalancerDnsName: this.loadBalancerDnsName,
      image: this.image.ref,
      liveSlot: this.status.liveSlot,
      liveRelease: this.status.liveRelease,
    });
  }

  /** The app image of this commit, built for Fargate and pushed to the stack's ECR repository under its release tag. */
  private createImage(name: string, args: AwsTargetArgs): docker.Image {
    const repository = this.infrastructure.repository;
    const credentials = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId }, { parent: this, provider: this.awsProvider });
    return new docker.Image(
      `${name}-app-image`,
      {
        imageName: pulumi.interpolate`${repository.repositoryUrl}:${args.imageTag.tag}`,
        buildOnPreview: false,
        build: {
          context: args.buildContext ?? '.',
          dockerfile: APP_DOCKERFILE,
          platform: IMAGE_PLATFORM,
          builderVersion: 'BuilderBuildKit',
          args: { VERSION: args.imageTag.version, REVISION: args.imageTag.commit, CREATED: args.imageTag.created },
        },
        registry: { server: repository.repositoryUrl, username: credentials.userName, password: pulumi.secret(credentials.password) },
      },
      { parent: this },
    );
  }
}
