import * as command from '@pulumi/command';
import * as docker from '@pulumi/docker';
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { AppService, ReleasePlan } from '../../components/release/plan.js';
import { APP_SERVICES } from '../../components/release/plan.js';
import type { GcpStackConfig } from '../config.js';
import { canonicalJson, parseReleaseSummary, rollbackInstructions } from '../release-command.js';
import { RELEASE_PLAN_ENV, ROLLBACK_TO_ENV, releaseCli } from '../release-command-line.js';
import type { DeploymentTarget, ReleaseStatus, TargetEndpoints } from '../types.js';
import type { GcpInfrastructureSpec, GcpSecretKey, GcpServiceSpec } from './infrastructure-spec.js';
import { BACKUP_RETENTION_DAYS, BACKUP_START_TIME, CLOUD_SQL_MOUNT, POSTGRES_VERSION, databaseUrl, planGcpInfrastructure } from './infrastructure-spec.js';
import { JOB_OUTPUT_ENV, STATE_MOUNT, STATE_VOLUME, type GcpJobKind, type GcpJobSpec } from './jobs/job-specs.js';
import { DEFAULT_SNAPSHOT_IMAGE, GCP_REVISION_REFS_ENV, type GcpRevisionRefs } from './plan-target.js';
import { planGcpRelease, type GcpImage } from './release-plan.js';
import { placeholderTemplate } from './run/placeholder-template.js';
import { JOB_OUTPUT_PREFIX, SNAPSHOT_PREFIX } from './storage/release-bucket.js';

export interface GcpTargetArgs {
  /** The validated stack config (providers/config.ts), provider gcp. */
  config: GcpStackConfig;
  /** The release tag of this commit, computed before any resource is declared (`created`: the OCI label, as on the other targets). */
  imageTag: GcpImage & { created?: string };
  /** Where `app/Dockerfile` is built from. @default '.' */
  buildContext?: string;
}

export const APP_DOCKERFILE = 'app/Dockerfile';
/** Cloud Run runs linux/amd64 images. */
export const IMAGE_PLATFORM = 'linux/amd64';
/** Artifact Registry takes an OAuth access token as the password of this user. */
export const ARTIFACT_REGISTRY_TOKEN_USER = 'oauth2accesstoken';

/** Roles the services' own account gets; nothing at project level but the Cloud SQL client. */
export const RUNTIME_PROJECT_ROLES = ['roles/cloudsql.client'] as const;
export const SECRET_ACCESSOR_ROLE = 'roles/secretmanager.secretAccessor';
/** The services' account on the release-state bucket, for the release's jobs. */
export const STATE_BUCKET_ROLE = 'roles/storage.objectUser';

/**
 * A TrapperKeeper stack on Google Cloud: Cloud Run services for sensor-api (gRPC over h2c end to
 * end) and web-ui, Cloud SQL for PostgreSQL, Secret Manager for the app's secrets (mounted as
 * secretKeyRef variables, never plain values), an Artifact Registry repository for the image, a
 * release-state bucket (deploy lock, snapshots with a lifecycle rule), and one service account
 * with only what the services need.
 *
 * The release owns the services' template, revisions and traffic (slots/, routing/): Pulumi
 * creates each service once, with a placeholder revision that answers 503 until the first release
 * passed its gate (run/placeholder-template.ts), and never sends its template or traffic again.
 * The release builds every revision from its plan and the revision refs this program hands it
 * (GCP_REVISION_REFS_ENV).
 *
 * @example
 * const target = new GcpTarget('tk', { config, imageTag });
 * export const url = target.endpoints.publicHttpUrl;
 */
export class GcpTarget extends pulumi.ComponentResource implements DeploymentTarget {
  readonly provider = 'gcp' as const;
  readonly spec: GcpInfrastructureSpec;
  readonly gcpProvider: gcp.Provider;
  readonly repository: gcp.artifactregistry.Repository;
  /** The app image of this commit, pushed to the repository under its release tag. */
  readonly appImage: docker.Image;
  readonly serviceAccount: gcp.serviceaccount.Account;
  readonly projectRoles: gcp.projects.IAMMember[];
  readonly secrets: Record<GcpSecretKey, { secret: gcp.secretmanager.Secret; version: gcp.secretmanager.SecretVersion; accessor: gcp.secretmanager.SecretIamMember }>;
  readonly database: { instance: gcp.sql.DatabaseInstance; database: gcp.sql.Database; user: gcp.sql.User };
  readonly stateBucket: gcp.storage.Bucket;
  readonly stateBucketAccess: gcp.storage.BucketIAMMember;
  readonly services: Record<AppService, { service: gcp.cloudrunv2.Service; publicInvoker: gcp.cloudrunv2.ServiceIamMember }>;
  /** The release's Cloud Run jobs: `migrate` (the app's migrations and their status) and `pgDump` (the snapshots). */
  readonly jobs: Record<GcpJobKind, gcp.cloudrunv2.Job>;
  readonly infrastructure: pulumi.Resource;
  readonly image: DeploymentTarget['image'];
  readonly release: command.local.Command;
  readonly cleanup: command.local.Command;
  readonly releasePlan: ReleasePlan;
  readonly endpoints: TargetEndpoints;
  readonly status: ReleaseStatus;
  readonly rollbackCommand: pulumi.Output<string>;

  constructor(name: string, args: GcpTargetArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('trapperkeeper:gcp:Target', name, {}, opts);
    const { config } = args;
    const spec = planGcpInfrastructure(config);
    this.spec = spec;
    this.releasePlan = planGcpRelease(config, spec, args.imageTag);

    this.gcpProvider = new gcp.Provider(`${name}-gcp`, { project: spec.project, region: spec.region }, { parent: this });
    const child = (extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions => ({ parent: this, provider: this.gcpProvider, ...extra });

    this.repository = new gcp.artifactregistry.Repository(
      `${name}-images`,
      { repositoryId: spec.artifactRepository, location: spec.region, format: 'DOCKER', description: `TrapperKeeper release images of stack ${config.stack}` },
      child(),
    );

    this.appImage = this.createImage(name, spec, args);

    this.serviceAccount = new gcp.serviceaccount.Account(
      `${name}-run`,
      { accountId: spec.serviceAccountId, displayName: `TrapperKeeper ${config.stack} services` },
      child(),
    );
    const member = this.serviceAccount.member;
    this.projectRoles = RUNTIME_PROJECT_ROLES.map(
      (role) => new gcp.projects.IAMMember(`${name}-run-${role.split('/')[1]}`, { project: spec.project, role, member }, child()),
    );

    const secretValues: Record<GcpSecretKey, pulumi.Output<string>> = { hmac: config.secrets.hmacSecret, databasePassword: config.secrets.postgresPassword };
    this.secrets = Object.fromEntries(
      spec.secrets.map((secretSpec) => {
        const secret = new gcp.secretmanager.Secret(`${name}-secret-${secretSpec.key}`, { secretId: secretSpec.secretId, replication: { auto: {} } }, child());
        const version = new gcp.secretmanager.SecretVersion(`${name}-secret-${secretSpec.key}`, { secret: secret.id, secretData: pulumi.secret(secretValues[secretSpec.key]) }, child());
        // Read access to this one secret only, not the project's secrets.
        const accessor = new gcp.secretmanager.SecretIamMember(`${name}-secret-${secretSpec.key}-accessor`, { secretId: secret.id, role: SECRET_ACCESSOR_ROLE, member }, child());
        return [secretSpec.key, { secret, version, accessor }];
      }),
    ) as GcpTarget['secrets'];

    this.database = this.createDatabase(name, spec, secretValues.databasePassword, config.ephemeral, child);
    this.stateBucket = new gcp.storage.Bucket(
      `${name}-release-state`,
      {
        name: spec.stateBucket.name,
        location: spec.region,
        uniformBucketLevelAccess: true,
        publicAccessPrevention: 'enforced',
        // The lock relies on generations; old ones must not linger as versions.
        versioning: { enabled: false },
        // Never an age rule on snapshots: it would delete the newest verified one of a stack that
        // stopped releasing. Only snapshots a newer verified one superseded carry a custom time
        // (set by the release, snapshot/retention.ts), and they go retentionDays after it.
        lifecycleRules: [
          { action: { type: 'Delete' }, condition: { daysSinceCustomTime: spec.stateBucket.snapshotRetentionDays, matchesPrefixes: [SNAPSHOT_PREFIX] } },
          { action: { type: 'Delete' }, condition: { age: 1, matchesPrefixes: [JOB_OUTPUT_PREFIX] } },
        ],
        forceDestroy: config.ephemeral,
      },
      // Like Docker's data volumes: the snapshots outlive `pulumi destroy` unless the stack is ephemeral.
      child({ retainOnDelete: !config.ephemeral }),
    );

    // The release's Cloud Run jobs (pg_dump, migrations) run as the services' account and write
    // their output into this bucket (a Cloud Storage volume): object access here, nowhere else.
    this.stateBucketAccess = new gcp.storage.BucketIAMMember(`${name}-release-state-jobs`, { bucket: this.stateBucket.name, role: STATE_BUCKET_ROLE, member }, child());

    // What the release's revisions and jobs need: their secrets, Cloud SQL, the pushed image.
    const access = [...Object.values(this.secrets).map((s) => s.accessor), ...this.projectRoles, this.appImage];
    this.services = Object.fromEntries(APP_SERVICES.map((service) => [service, this.createService(name, spec, spec.services[service], child)])) as GcpTarget['services'];
    // The jobs run the image being released (migrate) and pg_dump of the declared PostgreSQL
    // version; they write into the bucket, so they wait for its access too.
    const jobAccess = [...access, this.stateBucketAccess];
    this.jobs = {
      migrate: this.createJob(name, spec, spec.jobs.migrate, this.releasePlan.image.ref, jobAccess, child),
      pgDump: this.createJob(name, spec, spec.jobs.pgDump, DEFAULT_SNAPSHOT_IMAGE, jobAccess, child),
    };
    this.infrastructure = this.database.instance;
    this.image = { resource: this.appImage, ref: this.appImage.imageName };

    const rollbackTo = config.release.rollbackTo;
    // What the release's revisions need that exists only now: the database URL (the private IP)
    // and the secrets' versions. A new value is a new release (triggers), whose revisions pass the gate.
    const revisionRefs = pulumi
      .all([this.databaseUrl(spec), pulumi.all(spec.secrets.map((secret) => this.secrets[secret.key].version.version))])
      .apply(([databaseUrl, versions]): string => {
        const refs: GcpRevisionRefs = { databaseUrl, secretVersions: Object.fromEntries(spec.secrets.map((secret, i) => [secret.env, versions[i]!])) };
        return canonicalJson(refs);
      });
    const environment = {
      [RELEASE_PLAN_ENV]: canonicalJson(this.releasePlan),
      [GCP_REVISION_REFS_ENV]: revisionRefs,
      ...(rollbackTo !== undefined ? { [ROLLBACK_TO_ENV]: rollbackTo } : {}),
    };
    const logging = command.types.enums.local.Logging.Stderr;
    const everything = [
      ...access,
      this.stateBucket,
      this.stateBucketAccess,
      this.database.user,
      this.database.database,
      ...Object.values(this.services).flatMap((s) => [s.service, s.publicInvoker]),
      ...Object.values(this.jobs),
    ];
    this.release = new command.local.Command(
      `${name}-release`,
      { create: releaseCli('deploy'), update: releaseCli('deploy'), environment, logging, triggers: [this.releasePlan.image.releaseId, revisionRefs, ...(rollbackTo !== undefined ? [rollbackTo] : [])] },
      { parent: this, dependsOn: everything },
    );
    this.cleanup = new command.local.Command(`${name}-cleanup`, { delete: releaseCli('destroy'), environment, logging }, { parent: this, dependsOn: everything });

    const summary = this.release.stdout.apply(parseReleaseSummary);
    this.status = {
      liveSlot: summary.apply((s) => s.liveSlot),
      liveRelease: summary.apply((s) => s.liveRelease),
      previousRelease: summary.apply((s) => s.previousRelease),
      latestSnapshot: summary.apply((s) => s.latestSnapshot),
    };
    this.rollbackCommand = summary.apply((s) => rollbackInstructions(config.stack, s.previousRelease, rollbackTo));
    this.endpoints = { publicHttpUrl: pulumi.output(spec.endpoints.publicHttpUrl), publicGrpcAddress: pulumi.output(spec.endpoints.publicGrpcAddress) };

    this.registerOutputs({ publicHttpUrl: this.endpoints.publicHttpUrl, publicGrpcAddress: this.endpoints.publicGrpcAddress, image: this.image.ref });
  }

  private createDatabase(
    name: string,
    spec: GcpInfrastructureSpec,
    password: pulumi.Output<string>,
    ephemeral: boolean,
    child: (extra?: pulumi.CustomResourceOptions) => pulumi.CustomResourceOptions,
  ): GcpTarget['database'] {
    const db = spec.database;
    const instance = new gcp.sql.DatabaseInstance(
      `${name}-postgres`,
      {
        name: db.instance,
        region: spec.region,
        databaseVersion: POSTGRES_VERSION,
        // Both guards: Pulumi refuses to delete it, and so does Cloud SQL (console, gcloud).
        deletionProtection: db.deletionProtection,
        settings: {
          tier: db.tier,
          availabilityType: db.availabilityType,
          deletionProtectionEnabled: db.deletionProtection,
          backupConfiguration: {
            enabled: db.backups,
            pointInTimeRecoveryEnabled: db.backups,
            ...(db.backups ? { startTime: BACKUP_START_TIME, backupRetentionSettings: { retainedBackups: BACKUP_RETENTION_DAYS } } : {}),
          },
          // No authorized networks ever: the connector reaches the instance through IAM; private
          // IP only from the VPC. Every connection is encrypted.
          ipConfiguration:
            db.connection === 'connector'
              ? { ipv4Enabled: true, authorizedNetworks: [], sslMode: 'ENCRYPTED_ONLY' }
              : { ipv4Enabled: false, privateNetwork: networkSelfLink(spec.project, db.network ?? 'default'), sslMode: 'ENCRYPTED_ONLY' },
        },
      },
      // The data outlives `pulumi destroy` unless the stack is ephemeral, as on Docker.
      child({ retainOnDelete: !ephemeral }),
    );
    // Kept with the instance: deleting them would drop the data (and the role) from the instance that survives.
    const database = new gcp.sql.Database(`${name}-database`, { name: db.name, instance: instance.name }, child({ retainOnDelete: !ephemeral }));
    const user = new gcp.sql.User(`${name}-db-user`, { name: db.user, instance: instance.name, password: pulumi.secret(password) }, child({ retainOnDelete: !ephemeral }));
    return { instance, database, user };
  }

  /**
   * The app image of this commit, built for Cloud Run and pushed to the stack's Artifact Registry
   * repository under its release tag: `<region>-docker.pkg.dev/<project>/<repository>/trapperkeeper:<tag>`,
   * the ref the release plan carries. The registry takes the deployer's OAuth access token (from
   * the provider's credentials) as the password of `oauth2accesstoken`.
   */
  private createImage(name: string, spec: GcpInfrastructureSpec, args: GcpTargetArgs): docker.Image {
    const client = gcp.organizations.getClientConfigOutput({ parent: this, provider: this.gcpProvider });
    return new docker.Image(
      `${name}-app-image`,
      {
        imageName: this.releasePlan.image.ref,
        buildOnPreview: false,
        build: {
          context: args.buildContext ?? '.',
          dockerfile: APP_DOCKERFILE,
          platform: IMAGE_PLATFORM,
          builderVersion: 'BuilderBuildKit',
          args: { VERSION: args.imageTag.version, REVISION: args.imageTag.commit, ...(args.imageTag.created ? { CREATED: args.imageTag.created } : {}) },
        },
        registry: { server: `${spec.region}-docker.pkg.dev`, username: ARTIFACT_REGISTRY_TOKEN_USER, password: pulumi.secret(client.accessToken) },
      },
      { parent: this, dependsOn: [this.repository] },
    );
  }

  private createService(
    name: string,
    spec: GcpInfrastructureSpec,
    service: GcpServiceSpec,
    child: (extra?: pulumi.CustomResourceOptions) => pulumi.CustomResourceOptions,
  ): GcpTarget['services'][AppService] {
    const cloudRun = new gcp.cloudrunv2.Service(
      `${name}-${service.service}`,
      {
        name: service.name,
        location: spec.region,
        ingress: 'INGRESS_TRAFFIC_ALL',
        deletionProtection: false,
        // The first revision gets all the traffic the moment the service exists, before any
        // release ran: a placeholder answering 503 (run/placeholder-template.ts), which needs
        // neither the database nor a secret, so the create never waits on a schema not there yet.
        template: { ...placeholderTemplate(service, this.releasePlan.image.ref), serviceAccount: this.serviceAccount.email },
      },
      // The template above makes the service's first revision only. After that the release owns
      // template and traffic: google_cloud_run_v2_service's update is a PATCH without updateMask
      // (a full replace) that would resend this creation-time template and the traffic Pulumi
      // last recorded, creating a revision no gate passed and possibly routing users back to the
      // placeholder. So both are ignored whole, and nothing else here changes after creation;
      // config changes reach the next release's revisions through its plan (run/revision-template.ts).
      // The placeholder runs the image, so it is pushed first; the secrets and Cloud SQL wait for the release.
      child({ dependsOn: [this.appImage], ignoreChanges: ['template', 'traffics', 'client', 'clientVersion'] }),
    );
    // Browsers and sensors reach both services from the internet; the app authenticates them.
    const publicInvoker = new gcp.cloudrunv2.ServiceIamMember(
      `${name}-${service.service}-public`,
      { name: cloudRun.name, location: spec.region, role: 'roles/run.invoker', member: 'allUsers' },
      child(),
    );
    return { service: cloudRun, publicInvoker };
  }

  /**
   * One of the release's Cloud Run jobs (jobs/job-specs.ts): the services' account, database URL
   * and way to Cloud SQL, the secrets it needs as secretKeyRefs, and the release-state bucket as a
   * Cloud Storage volume it writes its output to. The release runs it with per-execution args,
   * TK_JOB_OUTPUT and timeout (execution overrides, which leave the job as declared); it changes
   * the job itself only to run an image the job does not name, which `pulumi up` sets back to
   * this commit's (an ignored image would keep the first release's, which pruning deletes).
   */
  private createJob(
    name: string,
    spec: GcpInfrastructureSpec,
    job: GcpJobSpec,
    image: string,
    access: pulumi.Resource[],
    child: (extra?: pulumi.CustomResourceOptions) => pulumi.CustomResourceOptions,
  ): gcp.cloudrunv2.Job {
    const connector = spec.database.connection === 'connector';
    const secretEnv = this.secretEnv(spec, (secret) => job.secretEnv.includes(secret.env));
    return new gcp.cloudrunv2.Job(
      `${name}-job-${job.container}`,
      {
        name: job.name,
        location: spec.region,
        deletionProtection: false,
        template: {
          taskCount: 1,
          parallelism: 1,
          template: {
            serviceAccount: this.serviceAccount.email,
            // A failed migration or dump is reported, never retried behind the release's back.
            maxRetries: 0,
            timeout: `${job.timeoutSeconds}s`,
            containers: [
              {
                name: job.container,
                image,
                commands: job.command,
                args: job.defaultArgs,
                envs: [
                  ...Object.entries(this.releasePlan.appEnv).map(([envName, value]) => ({ name: envName, value })),
                  { name: 'TK_DATABASE_URL', value: this.databaseUrl(spec) },
                  ...secretEnv,
                  // Where a run by hand (gcloud run jobs execute) leaves its output; each release run sets its own.
                  { name: JOB_OUTPUT_ENV, value: `${STATE_MOUNT}/${JOB_OUTPUT_PREFIX}${job.name}-by-hand` },
                ],
                volumeMounts: [...(connector ? [{ name: 'cloudsql', mountPath: CLOUD_SQL_MOUNT }] : []), { name: STATE_VOLUME, mountPath: STATE_MOUNT }],
              },
            ],
            volumes: [
              ...(connector ? [{ name: 'cloudsql', cloudSqlInstance: { instances: [this.database.instance.connectionName] } }] : []),
              { name: STATE_VOLUME, gcs: { bucket: this.stateBucket.name, readOnly: false } },
            ],
            ...(connector ? {} : { vpcAccess: { networkInterfaces: [{ network: spec.database.network ?? 'default' }], egress: 'PRIVATE_RANGES_ONLY' } }),
          },
        },
      },
      child({ dependsOn: access }),
    );
  }

  private databaseUrl(spec: GcpInfrastructureSpec): pulumi.Output<string> {
    const instance = this.database.instance;
    return pulumi.all([instance.connectionName, instance.privateIpAddress]).apply(([connectionName, privateIp]) => databaseUrl(spec, { connectionName, privateIp }));
  }

  /** The secrets `wanted` picks, as Secret Manager references of their current versions (never values). */
  private secretEnv(spec: GcpInfrastructureSpec, wanted: (secret: GcpInfrastructureSpec['secrets'][number]) => boolean) {
    return spec.secrets
      .filter(wanted)
      .map((secret) => ({ name: secret.env, valueSource: { secretKeyRef: { secret: this.secrets[secret.key].secret.secretId, version: this.secrets[secret.key].version.version } } }));
  }
}

function networkSelfLink(project: string, network: string): string {
  return network.startsWith('projects/') ? network : `projects/${project}/global/networks/${network}`;
}
