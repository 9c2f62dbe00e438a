import type { protos } from '@google-cloud/run';
import { createHash } from 'node:crypto';
import { DeployError } from '../../../components/errors.js';
import { APP_SERVICES, parseReleasePlan, type AppService, type ReleasePlan, type Slot } from '../../../components/release/plan.js';
import type { GcpPlanTarget } from '../plan-target.js';
import { CloudRunTraffic, cloudRunServiceName } from '../routing/cloud-run-traffic.js';
import { QUOTA_FIX, isQuotaRefusal, quotaMessage, type CloudRunClients } from './clients.js';

export type Revision = protos.google.cloud.run.v2.IRevision;
export type Service = protos.google.cloud.run.v2.IService;

/** Labels and annotations a release puts on the revisions it creates (labels are for filtering, annotations hold the plan). */
export const SLOT_LABEL = 'trapperkeeper-slot';
export const RELEASE_LABEL = 'trapperkeeper-release';
export const PLAN_ANNOTATION = 'trapperkeeper.dev/release-plan';
export const STARTED_ANNOTATION = 'trapperkeeper.dev/started-at';

/** What every GCP port works on: the stack's two Cloud Run services through the API clients. */
export interface CloudRunStack {
  target: GcpPlanTarget;
  clients: CloudRunClients;
  /** Progress of slow steps (a revision becoming ready, a job running), one line each. */
  progress: (line: string) => void;
}

export function serviceName(stack: CloudRunStack, service: AppService): string {
  return cloudRunServiceName(stack.target.project, stack.target.region, stack.target.services[service]);
}

export function traffic(stack: CloudRunStack, service: AppService): CloudRunTraffic {
  return new CloudRunTraffic(stack.clients.services, serviceName(stack, service));
}

export const SERVICES = APP_SERVICES;

/** A short label value naming a release (labels: at most 63 characters of [a-z0-9_-]). */
export function releaseLabel(releaseId: string): string {
  return createHash('sha256').update(releaseId).digest('hex').slice(0, 16);
}

/** The plan a revision was created with, or undefined for revisions the release did not create. */
export function planOfRevision(revision: Revision): ReleasePlan | undefined {
  const text = revision.annotations?.[PLAN_ANNOTATION];
  if (!text) return undefined;
  return parseReleasePlan(text, { source: `the ${PLAN_ANNOTATION} annotation of revision ${revision.name}`, fix: 'release again with `pulumi up` (a new revision is created)' });
}

export function startedAtOf(revision: Revision): Date {
  const text = revision.annotations?.[STARTED_ANNOTATION];
  return text ? new Date(text) : new Date(Number(revision.createTime?.seconds ?? 0) * 1000);
}

/** The revisions of `service` the release created for `slot`, newest first. */
export async function slotRevisions(stack: CloudRunStack, service: AppService, slot: Slot): Promise<Revision[]> {
  const [revisions] = await stack.clients.revisions.listRevisions({ parent: serviceName(stack, service) });
  return revisions.filter((r) => r.labels?.[SLOT_LABEL] === slot).sort((a, b) => startedAtOf(b).getTime() - startedAtOf(a).getTime());
}

/** Revision names are `<service>-<suffix>`, at most 63 characters, lowercase. */
export function revisionNameFor(serviceId: string, slot: Slot, releaseId: string, at: Date): string {
  return `${serviceId}-${slot}-${releaseLabel(releaseId).slice(0, 8)}-${at.getTime().toString(36)}`.slice(0, 63);
}

export function cloudRunError(what: string, error: unknown): DeployError {
  if (error instanceof DeployError) return error;
  if (isQuotaRefusal(error)) return new DeployError(quotaMessage(what), QUOTA_FIX);
  return new DeployError(`${what} failed: ${(error as Error).message}`, 'check the release\'s credentials (roles/run.developer and roles/iam.serviceAccountUser) and `gcloud run services describe`, then run pulumi up again');
}
