import { DeployError } from '../../../components/errors.js';
import type { AppService, ReleasePlan, Slot } from '../../../components/release/plan.js';
import type { DrainReport, SlotRecord, SlotsPort } from '../../../components/release/ports.js';
import { revisionRefsFrom, type GcpRevisionRefs } from '../plan-target.js';
import { pin, readSlots, revisionName } from '../routing/traffic-plan.js';
import { revisionTemplate } from '../run/revision-template.js';
import { waitForOperation } from '../run/operations.js';
import {
  PLAN_ANNOTATION,
  RELEASE_LABEL,
  SERVICES,
  SLOT_LABEL,
  STARTED_ANNOTATION,
  cloudRunError,
  planOfRevision,
  releaseLabel,
  revisionNameFor,
  serviceName,
  slotRevisions,
  startedAtOf,
  traffic,
  type CloudRunStack,
  type Revision,
} from '../run/stack.js';

/** How long a new revision may take to pass its startup probe before the start fails. */
export const REVISION_READY_TIMEOUT_MS = 10 * 60_000;

/**
 * Blue and green on Cloud Run: a slot is a revision of each service carrying the slot's traffic
 * tag (blue, green) at 0% until a switch. Starting a slot deploys a new revision whose whole
 * template the release builds from its plan (run/revision-template.ts: image, environment,
 * scaling, probes, service account, Secret Manager references, the Cloud SQL volume or VPC
 * access) with the plan as an annotation, waits until Cloud Run reports it ready, then gives it
 * the slot's tag. `pulumi up` never changes the services' template (target.ts), so every
 * revision is one a release created and gated. Traffic that followed LATEST is pinned to its
 * revision by name first, so creating a revision never moves a user.
 *
 * Parking `running` keeps the tag (the revision stays reachable at its tag URL for an instant
 * rollback); `stopped` removes the tag, after which nothing routes to the revision and Cloud Run
 * scales it to zero once its in-flight requests finish; resuming tags it again. Secret values are
 * not used: the revisions read them from Secret Manager, at the versions the revision refs
 * (GCP_REVISION_REFS_ENV, from the release process's environment) pin.
 */
export function cloudRunSlots(stack: CloudRunStack): SlotsPort {
  return {
    async describe(slot) {
      const [webUi, sensorApi] = await Promise.all(SERVICES.map((service) => slotRevision(stack, service, slot)));
      if (!webUi?.revision) return undefined;
      const plan = planOfRevision(webUi.revision);
      if (!plan) return undefined;
      const record: SlotRecord = { slot, plan, startedAt: startedAtOf(webUi.revision), running: webUi.tagged && sensorApi?.tagged === true };
      return record;
    },
    async start(plan, slot, env) {
      const refs = revisionRefsFrom(env);
      await Promise.all(SERVICES.map((service) => startRevision(stack, service, plan, slot, refs)));
    },
    async resume(plan, slot) {
      await Promise.all(SERVICES.map((service) => resumeRevision(stack, service, plan, slot)));
    },
    async park(slot, standby): Promise<DrainReport> {
      if (standby === 'running') {
        return { slot, clean: true, details: SERVICES.map((service) => `${stack.target.services[service]}: standby (tag ${slot}, no traffic)`) };
      }
      const details = await Promise.all(
        SERVICES.map(async (service) => {
          const routes = traffic(stack, service);
          const current = await routes.read();
          const revision = readSlots(current).tagged[slot];
          if (!revision) return `${stack.target.services[service]}: ${slot} already untagged`;
          await routes.untag(current, slot);
          return `${stack.target.services[service]}: ${revision} untagged (Cloud Run stops its instances once their requests finish)`;
        }),
      );
      return { slot, clean: true, details };
    },
    async remove(slot) {
      await Promise.all(SERVICES.map((service) => removeRevisions(stack, service, slot)));
    },
  };
}

/** The slot's revision of `service`: the one its tag names (running), else the newest parked one. */
async function slotRevision(stack: CloudRunStack, service: AppService, slot: Slot): Promise<{ revision: Revision | undefined; tagged: boolean } | undefined> {
  const current = await traffic(stack, service).read();
  const tagged = readSlots(current).tagged[slot];
  if (tagged) {
    const [revision] = await stack.clients.revisions.getRevision({ name: `${serviceName(stack, service)}/revisions/${tagged}` });
    return { revision, tagged: true };
  }
  const [newest] = await slotRevisions(stack, service, slot);
  return newest ? { revision: newest, tagged: false } : undefined;
}

async function startRevision(stack: CloudRunStack, service: AppService, plan: ReleasePlan, slot: Slot, refs: GcpRevisionRefs): Promise<void> {
  const name = serviceName(stack, service);
  const routes = traffic(stack, service);
  const what = `a ${slot} revision of ${stack.target.services[service]}`;
  try {
    let current = await routes.read();
    if (current.traffic.some((t) => t.type !== 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION')) current = await routes.pinServing(current);
    const [{ etag }] = await stack.clients.services.getService({ name });
    const startedAt = new Date();
    const revision = revisionNameFor(stack.target.services[service], slot, plan.image.releaseId, startedAt);
    // Only the template changes (the mask), and all of it comes from the plan.
    const [operation] = await stack.clients.services.updateService({
      service: {
        name,
        etag: etag ?? '',
        template: {
          ...revisionTemplate(plan, service, refs),
          revision,
          labels: { [SLOT_LABEL]: slot, [RELEASE_LABEL]: releaseLabel(plan.image.releaseId) },
          annotations: { [PLAN_ANNOTATION]: JSON.stringify(plan), [STARTED_ANNOTATION]: startedAt.toISOString() },
        },
      },
      updateMask: { paths: ['template'] },
    });
    stack.progress(`${stack.target.services[service]}: deploying revision ${revision} (${plan.image.ref}), 0% traffic`);
    await waitForOperation(operation.name ?? '', (op) => stack.clients.services.checkUpdateServiceProgress(op), {
      what: `revision ${revision} to become ready`,
      timeoutMs: REVISION_READY_TIMEOUT_MS,
      onProgress: (waited) => stack.progress(`${stack.target.services[service]}: revision ${revision} not ready after ${Math.round(waited / 1000)} s`),
      fix: `see why: gcloud run revisions describe ${revision} --region ${stack.target.region} and its logs (gcloud logging read 'resource.labels.revision_name="${revision}"'); the live revision keeps serving`,
    });
    stack.progress(`${stack.target.services[service]}: revision ${revision} ready`);
    await routes.stage(await routes.read(), slot, revision);
  } catch (error) {
    throw cloudRunError(`Starting ${what}`, error);
  }
}

async function resumeRevision(stack: CloudRunStack, service: AppService, plan: ReleasePlan, slot: Slot): Promise<void> {
  const routes = traffic(stack, service);
  const current = await routes.read();
  const tagged = readSlots(current).tagged[slot];
  const label = releaseLabel(plan.image.releaseId);
  const candidates = (await slotRevisions(stack, service, slot)).filter((r) => r.labels?.[RELEASE_LABEL] === label);
  if (tagged && candidates.some((r) => revisionName(r.name ?? '') === tagged)) return;
  const [newest] = candidates;
  if (!newest?.name) {
    throw new DeployError(
      `Slot ${slot} of ${stack.target.services[service]} holds no revision of release ${plan.image.releaseId} to resume`,
      'release it again (pulumi up) or roll back to a release a slot still holds',
    );
  }
  await routes.stage(current, slot, revisionName(newest.name));
}

async function removeRevisions(stack: CloudRunStack, service: AppService, slot: Slot): Promise<void> {
  const routes = traffic(stack, service);
  let current = await routes.read();
  if (readSlots(current).tagged[slot]) current = await routes.untag(current, slot);
  const referenced = new Set(pin(current).map((t) => t.revision));
  for (const revision of await slotRevisions(stack, service, slot)) {
    if (!revision.name || referenced.has(revisionName(revision.name))) continue;
    const [operation] = await stack.clients.revisions.deleteRevision({ name: revision.name });
    await waitForOperation(operation.name ?? '', (op) => stack.clients.revisions.checkDeleteRevisionProgress(op), {
      what: `revision ${revisionName(revision.name)} to be deleted`,
      timeoutMs: 120_000,
      fix: `delete it by hand: gcloud run revisions delete ${revisionName(revision.name)} --region ${stack.target.region}`,
    });
  }
}
