import { DeployError } from '../../components/errors.js';
import { describeHolder } from '../../components/lock/lock-holder.js';
import { SLOTS, type AppService, type ReleasePlan, type Slot } from '../../components/release/plan.js';
import type { ProxyRouting, SlotRecord } from '../../components/release/ports.js';
import { newestVerified } from '../../components/release/rollback.js';
import {
  logServices,
  previousRelease,
  type ComponentHealth,
  type StackOperations,
  type StackSnapshot,
  type StackStatusReport,
  type StackTargetOptions,
} from '../stack-operations.js';
import { followLines } from '../log-follow.js';
import { breakGcsLock, readGcsLock, type GcsLockStatus } from './lock/gcs-lock.js';
import type { GcpBackendParts } from './release-backend.js';
import { cloudRunRouting } from './routing/cloud-run-routing.js';
import { readSlots, type SlotRevisions } from './routing/traffic-plan.js';
import { SERVICES, serviceName, traffic, type CloudRunStack } from './run/stack.js';
import { withGcpParts, type GcpBackendOptions } from './runtime.js';
import { cloudRunSlots } from './slots/cloud-run-slots.js';
import { listSnapshots, type GcsSnapshot } from './snapshot/snapshot-store.js';
import { gcpStackFromFile, type GcpStackRef } from './stack-file.js';
import { SNAPSHOT_PREFIX } from './storage/release-bucket.js';
import type { RevisionLogLine } from './logs/revision-logs.js';
import type { CloudRunEndpoint } from './run/clients.js';

/** The status of a GCP stack: the shared report plus the revision of each service that has the traffic. */
export interface GcpStackStatusReport extends StackStatusReport {
  revisions: Record<AppService, string | null>;
}

/**
 * The operator's view of a GCP stack (providers/stack-operations.ts), read from Cloud Run and its
 * release-state bucket through the release's own ports, with Application Default Credentials: the
 * live slot and release (routing), the release each slot's revisions carry (slots), the revision
 * serving each service, the snapshots and the deploy lock in the bucket; a backup is the
 * release's pg-dump job.
 */
export async function withGcpStackOperations<T>(stack: string, options: StackTargetOptions, work: (operations: StackOperations) => Promise<T>): Promise<T> {
  const ref = gcpStackFromFile(stack, options.dir ?? process.cwd());
  if (!ref) throw new DeployError(`Pulumi.${stack}.yaml is not a GCP stack`, `pulumi config set provider gcp -s ${stack}`);
  return openGcpStackOperations(ref, options.gcp ?? {}, work);
}

export async function openGcpStackOperations<T>(ref: GcpStackRef, options: GcpBackendOptions, work: (operations: StackOperations & { report(): Promise<GcpStackStatusReport> }) => Promise<T>): Promise<T> {
  try {
    return await withGcpParts(ref.target, options, (parts) => work(gcpStackOperations(ref, parts, options.loggingEndpoint)));
  } catch (error) {
    throw gcpProblem(error, ref);
  }
}

interface GcpStackState {
  records: (SlotRecord | undefined)[];
  routing: ProxyRouting;
  traffic: Record<AppService, SlotRevisions>;
}

export function gcpStackOperations(ref: GcpStackRef, parts: GcpBackendParts, loggingEndpoint?: CloudRunEndpoint): StackOperations & { report(): Promise<GcpStackStatusReport> } {
  const stack: CloudRunStack = { target: ref.target, clients: parts.clients, progress: parts.progress ?? (() => undefined) };
  const lockSpec = { stack: ref.stack, bucket: parts.bucket };
  const slots = cloudRunSlots(stack);

  async function readState(): Promise<GcpStackState> {
    const [routing, records, byService] = await Promise.all([
      cloudRunRouting(stack).read(),
      Promise.all(SLOTS.map((slot) => slots.describe(slot))),
      Promise.all(SERVICES.map(async (service) => [service, readSlots(await traffic(stack, service).read())] as const)),
    ]);
    return { routing, records, traffic: Object.fromEntries(byService) as Record<AppService, SlotRevisions> };
  }

  async function report(state: GcpStackState, snapshots: GcsSnapshot[]): Promise<GcpStackStatusReport> {
    return {
      live: state.routing.live,
      slots: Object.fromEntries(SLOTS.map((slot, index) => [slot, state.records[index]?.plan.image.releaseId ?? null])) as Record<Slot, string | null>,
      latestSnapshot: newestVerified(snapshots)?.name ?? null,
      lock: describeGcsLock(await readGcsLock(lockSpec)),
      revisions: Object.fromEntries(SERVICES.map((service) => [service, state.traffic[service].live?.revision ?? null])) as Record<AppService, string | null>,
    };
  }

  /** The plan of the release users reach (else the newest a slot holds): what a backup runs with. */
  function servingPlan(state: GcpStackState): ReleasePlan {
    const live = state.records.find((record) => record && record.slot === state.routing.live?.slot) ?? state.records.find(Boolean);
    if (!live) throw new DeployError(`Stack ${ref.stack} has no release on Cloud Run (no revision of ${SERVICES.map((s) => ref.target.services[s]).join(' or ')} carries one)`, `tkctl up --stack ${ref.stack}`);
    return live.plan;
  }

  /** Each slot's revision of each service that holds a release: whether it is ready, and its share of the traffic. */
  async function revisionHealth(state: GcpStackState): Promise<ComponentHealth[]> {
    const health: ComponentHealth[] = [];
    for (const [index, slot] of SLOTS.entries()) {
      if (!state.records[index]) continue;
      const role = slot === state.routing.live?.slot ? 'live' : 'parked';
      for (const service of SERVICES) {
        const revisions = state.traffic[service];
        const name = revisions.tagged[slot] ?? (revisions.live?.slot === slot ? revisions.live.revision : undefined);
        if (!name) {
          health.push({ component: ref.target.services[service], role: `${service} (${role})`, state: 'no revision tagged', health: null });
          continue;
        }
        // Traffic names a revision by its id; the Admin API by its full name.
        const [revision] = await stack.clients.revisions.getRevision({ name: name.startsWith('projects/') ? name : `${serviceName(stack, service)}/revisions/${name}` });
        const ready = revision.conditions?.find((c) => c.type === 'Ready');
        const state_ = String(ready?.state ?? 'unknown');
        const percent = revisions.live?.revision === name ? 100 : 0;
        health.push({
          component: name.split('/').pop() ?? name,
          role: `${service} (${role})`,
          state: state_ === 'CONDITION_SUCCEEDED' ? 'ready' : state_ === 'CONDITION_FAILED' ? `failed${ready?.message ? ` (${ready.message})` : ''}` : state_ === 'CONDITION_PENDING' || state_ === 'CONDITION_RECONCILING' ? 'not ready yet' : state_.toLowerCase(),
          health: `${percent}% of traffic`,
        });
      }
    }
    return health;
  }

  return {
    stack: ref.stack,
    provider: 'gcp',

    async report() {
      const [state, snapshots] = await Promise.all([readState(), listSnapshots(parts.bucket, ref.database)]);
      return report(state, snapshots);
    },

    async status() {
      const [state, snapshots] = await Promise.all([readState(), listSnapshots(parts.bucket, ref.database)]);
      const [summary, health] = await Promise.all([report(state, snapshots), revisionHealth(state)]);
      const { revisions: _revisions, ...shared } = summary;
      return {
        report: shared,
        previous: previousRelease(
          summary.live,
          state.records.map((record) => record && { slot: record.slot, releaseId: record.plan.image.releaseId, running: record.running }),
        ),
        health,
        snapshots: snapshots.map(stackSnapshotOf),
      };
    },

    async lockStatus() {
      return describeGcsLock(await readGcsLock(lockSpec));
    },

    async breakLock({ events, by, reason }) {
      await breakGcsLock(lockSpec, { events, by, ...(reason ? { reason } : {}) });
    },

    async backup(events) {
      const plan = servingPlan(await readState());
      const { gcpReleaseBackend } = await import('./release-backend.js');
      events.logger.info({ job: `${ref.target.services['web-ui'].replace(/-web-ui$/, '')}-pg-dump`, bucket: ref.target.stateBucket }, `taking a snapshot of Cloud SQL ${ref.target.databaseInstance} with the release's pg-dump job (into gs://${ref.target.stateBucket}, read back in full, checksum)`);
      const taken = await gcpReleaseBackend(plan, parts).database.snapshot(plan, events);
      return {
        name: taken.name,
        takenAt: taken.takenAt,
        verified: taken.verified,
        size: taken.size ?? null,
        sha256: taken.sha256 ?? null,
        commit: plan.image.commit,
        location: `gs://${ref.target.stateBucket}/${SNAPSHOT_PREFIX}${taken.name}`,
        fields: {},
      };
    },

    async listSnapshots() {
      return { location: `gs://${ref.target.stateBucket}/${SNAPSHOT_PREFIX}`, snapshots: (await listSnapshots(parts.bucket, ref.database)).map(stackSnapshotOf), traces: [] };
    },

    async logs(request, sink) {
      const services = logServices(request).map((service) => {
        if (service === 'postgres') {
          throw new DeployError(
            `A GCP stack's PostgreSQL is the Cloud SQL instance ${ref.target.databaseInstance}, whose logs Cloud Logging keeps`,
            `gcloud logging read 'resource.type="cloudsql_database" AND resource.labels.database_id="${ref.target.project}:${ref.target.databaseInstance}"' --project ${ref.target.project} --freshness 1d --limit ${request.tail === 'all' ? 1000 : request.tail} --order asc`,
          );
        }
        if (service === 'caddy') throw new DeployError('A GCP stack has no Caddy: Cloud Run routes to the revisions', `tkctl logs web-ui --stack ${ref.stack}`);
        return service;
      });
      const state = await readState();
      if (!state.routing.live) throw new DeployError(`Stack ${ref.stack} has no live slot (no revision of its services has all the traffic)`, `tkctl up --stack ${ref.stack}`);
      const sources = services.map((service) => {
        const revision = state.traffic[service].live?.revision;
        if (!revision) throw new DeployError(`No revision of ${ref.target.services[service]} has the traffic`, `tkctl status --stack ${ref.stack}`);
        return { project: ref.target.project, region: ref.target.region, service: ref.target.services[service], revision: revision.split('/').pop() ?? revision, app: service };
      });
      // Loaded only here: the logging client is the largest of the Google clients.
      const { lastRevisionLines, loggingClient, revisionLinesSince } = await import('./logs/revision-logs.js');
      const client = loggingClient(loggingEndpoint);
      try {
        const prefix = sources.length > 1 ? (line: RevisionLogLine) => `${(line.source as (typeof sources)[number]).app} | ` : () => '';
        const write = (line: RevisionLogLine) => (line.stream === 'stderr' ? sink.err(`${prefix(line)}${line.text}`) : sink.out(`${prefix(line)}${line.text}`));
        const lines = (await Promise.all(sources.map((source) => lastRevisionLines(client, source, request.tail)))).flat().sort((a, b) => a.at - b.at);
        for (const line of lines) write(line);
        if (request.follow) await followLines((since) => revisionLinesSince(client, sources, since), { since: Date.now() - 60_000, printed: lines }, write);
      } finally {
        await client.close();
      }
    },
  };
}

function stackSnapshotOf(snapshot: GcsSnapshot): StackSnapshot {
  return { name: snapshot.name, takenAt: snapshot.takenAt, verified: snapshot.verified, size: snapshot.size, sha256: snapshot.sha256 ?? null, commit: snapshot.commit ?? null };
}

function describeGcsLock(lock: GcsLockStatus): string {
  if (lock.state === 'held') return describeHolder(lock.holder, new Date());
  return lock.state === 'free' ? 'free' : `unreadable (${lock.problems.join('; ')})`;
}

/**
 * A Google API failure as a person can act on it: no Application Default Credentials, an API that
 * cannot be reached, a refusal. Anything else passes unchanged.
 */
export function gcpProblem(error: unknown, ref: GcpStackRef): unknown {
  if (error instanceof DeployError || !(error instanceof Error)) return error;
  const code = (error as { code?: number | string }).code;
  const where = `project ${ref.target.project} (${ref.target.region})`;
  if (/default credentials|Could not load the default credentials|invalid_grant|reauth/i.test(error.message)) {
    return new DeployError(`Stack ${ref.stack} is on GCP, ${where}, and no usable Google credentials were found: ${error.message}`, 'gcloud auth application-default login (or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file)');
  }
  // gRPC UNAVAILABLE (14) and DEADLINE_EXCEEDED (4), or the socket's own errors.
  if (code === 14 || code === 4 || ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNRESET'].includes(String(code))) {
    return new DeployError(`Stack ${ref.stack}: the Google Cloud APIs for ${where} cannot be reached (${error.message})`, `check the network, then: gcloud run services list --project ${ref.target.project} --region ${ref.target.region}`);
  }
  // PERMISSION_DENIED (7), UNAUTHENTICATED (16), HTTP 401/403.
  if (code === 7 || code === 16 || code === 401 || code === 403) {
    return new DeployError(
      `Stack ${ref.stack}: Google Cloud refused a call in ${where} (${error.message})`,
      `use an account that may read the stack's Cloud Run services and bucket gs://${ref.target.stateBucket} (roles/run.viewer, roles/storage.objectViewer; a backup also needs roles/run.developer and roles/storage.objectAdmin): gcloud auth application-default login`,
    );
  }
  // NOT_FOUND (5), HTTP 404.
  if (code === 5 || code === 404) {
    return new DeployError(`Stack ${ref.stack}: a resource the stack declares is missing in ${where} (${error.message})`, `pulumi up -s ${ref.stack} declares it`);
  }
  return error;
}
