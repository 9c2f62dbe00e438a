import type { DeployEvents } from '../components/events/deploy-events.js';
import { APP_SERVICES, type AppService, type Slot } from '../components/release/plan.js';
import type { AwsClients } from './aws/clients.js';
import type { GcpBackendOptions } from './gcp/runtime.js';
import type { ProviderName } from './provider-names.js';
import type { StackStatusReport } from './stack-file.js';

export type { StackStatusReport };

/**
 * The operator's view of one stack, the same on every target: what `tkctl status`, `backup`,
 * `snapshots list` and `logs` and the release CLI's `status` and `lock` read or do. Each target
 * implements it in providers/<target>/stack-operations.ts through its own release ports (the
 * lock, routing, slots and database steps a release uses), so what an operator sees is what a
 * release reads.
 */
export interface StackOperations {
  readonly stack: string;
  readonly provider: ProviderName;
  /** The release CLI's `status` line: live slot and release, both slots, newest verified snapshot, lock (plus a target's own facts, e.g. GCP's serving revisions). */
  report(): Promise<StackStatusReport>;
  /** Everything `tkctl status` shows about the target (the deploy history is tkctl's own). */
  status(): Promise<StackStatus>;
  /** The deploy lock: its holder, `free`, or why it cannot be read. */
  lockStatus(): Promise<string>;
  /** Removes the deploy lock whoever holds it (a holder known to be gone); logged with who and why. */
  breakLock(request: { events: DeployEvents; by: string; reason?: string }): Promise<void>;
  /** A verified snapshot now, taken by the same step a release runs before migrating. */
  backup(events: DeployEvents): Promise<TakenBackup>;
  listSnapshots(): Promise<SnapshotListing>;
  /** Writes the logs of `request.service` (default: both app services of the live slot) to `sink`; with `follow`, until interrupted. */
  logs(request: LogRequest, sink: LogSink): Promise<void>;
}

/** What `tkctl status` shows of a stack's target. */
export interface StackStatus {
  report: StackStatusReport;
  /** The release in the slot users left (a rollback target) and whether it still runs. */
  previous: { slot: Slot; releaseId: string; running: boolean } | null;
  /** Every part the release relies on: containers on Docker, ECS services and their targets on AWS, Cloud Run revisions on GCP. */
  health: ComponentHealth[];
  /** Oldest first. */
  snapshots: StackSnapshot[];
}

export interface ComponentHealth {
  /** What runs: a container, an ECS service, a Cloud Run revision. */
  component: string;
  /** Its part in the stack: `web-ui (live)`, `sensor-api (parked)`, `postgres`, ... */
  role: string;
  /** Whether it runs: `running`, `exited`, `missing`, `2/2 tasks`, `ready`, ... */
  state: string;
  /** What its health check says (`healthy`, `2/2 targets healthy`, ...); null without one. */
  health: string | null;
}

export interface StackSnapshot {
  name: string;
  takenAt: Date;
  verified: boolean;
  /** Bytes, where the target's listing says. */
  size: number | null;
  sha256: string | null;
  /** The commit of the release it was taken for, where the target records it. */
  commit: string | null;
}

export interface SnapshotListing {
  /** Where the snapshots are: `<container>:<folder>`, `s3://<bucket>/snapshots/`, `gs://<bucket>/snapshots/`. */
  location: string;
  /** Oldest first. */
  snapshots: StackSnapshot[];
  /** What failed attempts left (Docker's partial dumps and failure records); oldest first. */
  traces: Array<{ name: string; kind: string; size: number; takenAt: Date }>;
}

export interface TakenBackup extends StackSnapshot {
  /** Where it is, for people: `<container>:<path>`, `s3://<bucket>/<key>`, `gs://<bucket>/<object>`. */
  location: string;
  /** A target's own fields of the backup's JSON (Docker: container and path). */
  fields: Record<string, string>;
}

/** The services `tkctl logs` names: the live slot's app services, and Docker's own containers. */
export const LOG_SERVICES = ['web-ui', 'sensor-api', 'postgres', 'caddy'] as const satisfies ReadonlyArray<AppService | 'postgres' | 'caddy'>;
export type LogService = (typeof LOG_SERVICES)[number];

export interface LogRequest {
  service?: LogService;
  /** Keep printing new lines until Ctrl-C: Docker attaches `docker logs -f`; AWS and GCP poll their log service (log-follow.ts). */
  follow: boolean;
  /** Lines per service, or every line there is. */
  tail: number | 'all';
}

/** Where log lines go: the service's stdout lines to `out`, its stderr to `err` (where the target keeps them apart). */
export interface LogSink {
  out(line: string): void;
  err(line: string): void;
}

/** Where the cloud APIs are: unset, the SDKs' own defaults (credentials chain, endpoints). */
export interface StackTargetOptions {
  /** The folder with Pulumi.<stack>.yaml. @default process.cwd() */
  dir?: string;
  /** A Docker stack's host, over its docker.host and DOCKER_HOST. */
  dockerHost?: string;
  /** Tests only: moto's endpoint, or clients whose calls a test answers (ECS tasks on Docker). */
  aws?: { endpoint?: string; clients?: AwsClients };
  /** Tests only: the local Cloud Run, Artifact Registry and Cloud Storage servers. */
  gcp?: Omit<GcpBackendOptions, 'progress'>;
}

/** The services `tkctl logs` reads when none is named: the live slot's app services. */
export function logServices(request: LogRequest): LogService[] {
  return request.service ? [request.service] : [...APP_SERVICES];
}

/** The app service a log request names, or undefined for one of Docker's own containers. */
export function appServiceOf(service: LogService): AppService | undefined {
  return (APP_SERVICES as readonly string[]).includes(service) ? (service as AppService) : undefined;
}

/** The previous release of a status: the slot users do not reach that holds a release. */
export function previousRelease(live: StackStatusReport['live'], records: ReadonlyArray<{ slot: Slot; releaseId: string; running: boolean } | undefined>): StackStatus['previous'] {
  const parked = records.find((record) => record && record.slot !== live?.slot);
  return parked ? { slot: parked.slot, releaseId: parked.releaseId, running: parked.running } : null;
}
