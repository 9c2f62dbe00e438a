import { isDeepStrictEqual } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeployError } from '../../../components/errors.js';
import type { AppService, ReleasePlan, Slot } from '../../../components/release/plan.js';
import type { ProxyRouting, RoutedRelease, RoutingPort, SwitchResult } from '../../../components/release/ports.js';
import { RELEASE_LABEL, SERVICES, planOfRevision, releaseLabel, serviceName, slotRevisions, traffic, type CloudRunStack, type Revision } from '../run/stack.js';
import type { ServiceTrafficSnapshot } from './cloud-run-traffic.js';
import { planStaging, readSlots, revisionName, stagedRevision } from './traffic-plan.js';

/** How long `stage` waits for the slot's revisions, which `start` creates at the same time. */
export const STAGE_WAIT_MS = 10 * 60_000;

/**
 * The routing port on Cloud Run: `live` is the slot whose tagged revision has all of each
 * service's traffic, `staging` the slot whose revision carries the `staging` tag (its own URL).
 * A switch moves 100% of each service to the slot's revision by name (so a release after a
 * rollback really serves: pinned traffic stays where it was told) and the staging tag to the
 * revision that served before, the rollback target. The two services switch one after the
 * other (Cloud Run has no transaction across services); when the second fails, the first is put
 * back.
 */
export function cloudRunRouting(stack: CloudRunStack): RoutingPort {
  const replaced = new WeakMap<SwitchResult, Map<AppService, ServiceTrafficSnapshot>>();
  const releaseCache = new Map<string, string | null>();

  async function releaseOf(service: AppService, revision: string): Promise<string | null> {
    const key = `${service}/${revision}`;
    if (!releaseCache.has(key)) {
      const [found] = await stack.clients.revisions.getRevision({ name: `${serviceName(stack, service)}/revisions/${revision}` });
      releaseCache.set(key, planOfRevision(found)?.image.releaseId ?? null);
    }
    return releaseCache.get(key) ?? null;
  }

  async function routingOf(service: AppService, current: ServiceTrafficSnapshot): Promise<ProxyRouting> {
    const slots = readSlots(current);
    const routed = async (slot: Slot | null, revision: string | undefined): Promise<RoutedRelease | null> => {
      if (!slot || !revision) return null;
      const releaseId = await releaseOf(service, revision);
      return releaseId ? { slot, releaseId } : null;
    };
    const staged = stagedRevision(current);
    const stagedSlot = staged ? ((Object.entries(slots.tagged).find(([, revision]) => revision === staged)?.[0] as Slot | undefined) ?? null) : null;
    return { live: await routed(slots.live?.slot ?? null, slots.live?.revision), staging: await routed(stagedSlot, staged) };
  }

  async function readAll(): Promise<{ routing: ProxyRouting; snapshots: Map<AppService, ServiceTrafficSnapshot> }> {
    const snapshots = new Map<AppService, ServiceTrafficSnapshot>(await Promise.all(SERVICES.map(async (service) => [service, await traffic(stack, service).read()] as const)));
    const [first, ...others] = await Promise.all(SERVICES.map((service) => routingOf(service, snapshots.get(service)!)));
    for (const [index, other] of others.entries()) {
      if (!isDeepStrictEqual(first, other)) {
        throw new DeployError(
          `The Cloud Run services disagree on what serves: ${SERVICES[0]} ${JSON.stringify(first)}, ${SERVICES[index + 1]} ${JSON.stringify(other)} (a release was interrupted between them)`,
          `send each service's traffic to the same release (gcloud run services update-traffic <service> --to-tags <slot>=100 --region ${stack.target.region}), then run pulumi up again`,
        );
      }
    }
    return { routing: first!, snapshots };
  }

  return {
    async read() {
      return (await readAll()).routing;
    },

    async stage(plan: ReleasePlan, slot: Slot) {
      const label = releaseLabel(plan.image.releaseId);
      const started = Date.now();
      // `start` runs alongside: wait until each service's slot tag names this release's revision.
      for (const service of SERVICES) {
        const routes = traffic(stack, service);
        for (;;) {
          const current = await routes.read();
          const revision = readSlots(current).tagged[slot];
          const ofRelease = (await slotRevisions(stack, service, slot)).filter((r) => r.labels?.[RELEASE_LABEL] === label);
          if (revision !== undefined && ofRelease.some((r) => revisionName(r.name ?? '') === revision)) {
            if (stagedRevision(current) !== revision) await routes.write(current, planStaging(current, revision));
            break;
          }
          // A revision that will never be ready will never be tagged: fail now, not when the wait is up.
          const failure = ofRelease[0] && readyFailure(ofRelease[0]);
          if (failure !== undefined) {
            const name = revisionName(ofRelease[0]!.name ?? '');
            throw new DeployError(
              `Slot ${slot} of ${stack.target.services[service]} cannot be staged: its revision ${name} of release ${plan.image.releaseId} did not become ready: ${failure}`,
              `see why: gcloud run revisions describe ${name} --region ${stack.target.region} and its logs; the live revision keeps serving`,
            );
          }
          if (Date.now() - started > STAGE_WAIT_MS) {
            throw new DeployError(`Slot ${slot} of ${stack.target.services[service]} got no revision of release ${plan.image.releaseId} within ${STAGE_WAIT_MS / 1000} s`, 'see the start error above; the live revision keeps serving');
          }
          await sleep(500);
        }
      }
    },

    async switchTo(plan, slot, expectedLive) {
      const started = performance.now();
      const { routing: previous, snapshots } = await readAll();
      if (!isDeepStrictEqual(previous.live, expectedLive)) {
        throw new DeployError(
          `What serves changed while this release ran: expected ${JSON.stringify(expectedLive)}, found ${JSON.stringify(previous.live)}; nothing was switched`,
          'another release or a person moved the traffic; run pulumi up again to release from what serves now',
        );
      }
      const done: AppService[] = [];
      try {
        for (const service of SERVICES) {
          const routes = traffic(stack, service);
          const before = snapshots.get(service)!;
          const oldLive = readSlots(before).live;
          const switched = await routes.switchTo(before, slot);
          // The staging tag follows the revision that served: the rollback target.
          const rollbackTarget = oldLive?.slot && oldLive.slot !== slot ? oldLive.revision : undefined;
          if (stagedRevision(switched) !== rollbackTarget) await routes.write(switched, planStaging(switched, rollbackTarget));
          done.push(service);
        }
      } catch (error) {
        for (const service of done) await putBack(stack, service, snapshots.get(service)!).catch(() => undefined);
        throw error;
      }
      const routing = (await readAll()).routing;
      if (routing.live?.slot !== slot || routing.live.releaseId !== plan.image.releaseId) {
        throw new DeployError(`After the switch, ${JSON.stringify(routing.live)} serves instead of ${slot} (${plan.image.releaseId})`, `check gcloud run services describe ${stack.target.services['web-ui']} --region ${stack.target.region}`);
      }
      const result: SwitchResult = { previous, routing, durationMs: Math.round(performance.now() - started) };
      replaced.set(result, snapshots);
      return result;
    },

    async restore(switched) {
      const snapshots = replaced.get(switched);
      if (!snapshots) {
        throw new DeployError('This switch was made by another release process; its traffic cannot be put back from here', `send traffic back by hand: gcloud run services update-traffic <service> --to-tags ${switched.previous.live?.slot ?? '<slot>'}=100 --region ${stack.target.region}`);
      }
      for (const service of SERVICES) await putBack(stack, service, snapshots.get(service)!);
    },
  };
}

/** Why Cloud Run gave up on a revision (its Ready condition failed), or undefined. */
function readyFailure(revision: Revision): string | undefined {
  const ready = (revision.conditions ?? []).find((condition) => condition.type === 'Ready');
  const failed = ready?.state === 'CONDITION_FAILED' || (ready?.state as unknown) === 3;
  return failed ? ready?.message || 'its Ready condition failed' : undefined;
}

async function putBack(stack: CloudRunStack, service: AppService, previous: ServiceTrafficSnapshot): Promise<void> {
  const routes = traffic(stack, service);
  await routes.restore(await routes.read(), previous);
}
