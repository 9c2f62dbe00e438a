import type { protos } from '@google-cloud/run';
import { DeployError } from '../../../components/errors.js';
import type { AppService, ReleasePlan } from '../../../components/release/plan.js';
import { CLOUD_SQL_MOUNT } from '../infrastructure-spec.js';
import { gcpTargetOf, type GcpRevisionRefs } from '../plan-target.js';

export type RevisionTemplate = protos.google.cloud.run.v2.IRevisionTemplate;

/** How often and how long Cloud Run probes a new instance before it takes requests (60 s). */
export const STARTUP_PROBE_TIMING = { periodSeconds: 2, failureThreshold: 30 } as const;
/** The name of the Cloud SQL connector's socket volume. */
export const CLOUD_SQL_VOLUME = 'cloudsql';

/**
 * Pure: the template of one service's revision of a release, as the Cloud Run Admin API takes it.
 * Everything comes from the release's plan (image, app environment, scaling, probes, timeout,
 * service account, how it reaches Cloud SQL, which secrets it reads) and the refs only `pulumi
 * up` knows (the database URL, each secret's version); nothing from the service's current
 * template, which is whatever the last release or the service's creation left there.
 */
export function revisionTemplate(plan: ReleasePlan, service: AppService, refs: GcpRevisionRefs): RevisionTemplate {
  // The plan being started decides, not the one the release backend was opened with.
  const revision = gcpTargetOf(plan).revision;
  const container = revision.services[service];
  const probe = container.startupProbe.kind === 'grpc' ? { grpc: { port: container.startupProbe.port } } : { httpGet: { path: container.startupProbe.path, port: container.startupProbe.port } };
  const connector = revision.database.connection === 'connector';
  const secretEnv = revision.secrets.map((secret) => {
    const version = refs.secretVersions[secret.env];
    if (!version) throw new DeployError(`The revision refs name no Secret Manager version of ${secret.env}`, 'release with `pulumi up`: the program passes the version of every secret');
    return { name: secret.env, valueSource: { secretKeyRef: { secret: secret.secretId, version } } };
  });
  return {
    serviceAccount: revision.serviceAccount,
    scaling: { minInstanceCount: revision.instances.min, maxInstanceCount: revision.instances.max },
    timeout: { seconds: container.timeoutSeconds },
    containers: [
      {
        image: plan.image.ref,
        args: [...container.args],
        ports: [{ name: container.portName, containerPort: container.containerPort }],
        env: [
          ...Object.entries({ ...plan.appEnv, TK_RELEASE_ID: plan.image.releaseId }).map(([name, value]) => ({ name, value })),
          { name: 'TK_DATABASE_URL', value: refs.databaseUrl },
          ...secretEnv,
        ],
        startupProbe: { ...probe, ...STARTUP_PROBE_TIMING },
        ...(connector ? { volumeMounts: [{ name: CLOUD_SQL_VOLUME, mountPath: CLOUD_SQL_MOUNT }] } : {}),
      },
    ],
    ...(revision.database.connection === 'connector'
      ? { volumes: [{ name: CLOUD_SQL_VOLUME, cloudSqlInstance: { instances: [revision.database.instance] } }] }
      : { vpcAccess: { networkInterfaces: [{ network: revision.database.network }], egress: 'PRIVATE_RANGES_ONLY' } }),
  };
}
