import { DeployError } from '../../../components/errors.js';
import { SLOTS, type Slot } from '../../../components/release/plan.js';

/**
 * Cloud Run routing as pure decisions over a service's traffic blocks. Blue and green are Cloud
 * Run traffic tags: a slot is the revision its tag names (reachable at the tag's own URL, which
 * is what the health gate probes), and the live slot is the one whose revision has all the
 * traffic.
 *
 * Every plan names revisions explicitly and never uses LATEST: a service left on LATEST would
 * send users to the new revision the moment a release creates it, before the gate. The reverse
 * is Cloud Run's trap after a rollback: traffic pinned to a named revision stays there whatever
 * is deployed later, so a release that only deploys would never serve. Here the switch always
 * moves 100% to the new revision by name, whatever was pinned before.
 */
export const LATEST = 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST';
export const REVISION = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION';

/** One traffic block as the Cloud Run Admin API v2 reads and writes it. */
export interface TrafficTarget {
  type?: typeof LATEST | typeof REVISION | string | null;
  revision?: string | null;
  percent?: number | null;
  tag?: string | null;
}

/**
 * The tag of the revision the release has staged (the gate's target before a switch, the
 * rollback target after one): the routing port's `staging`, as a route of its own.
 */
export const STAGING_TAG = 'staging';
export type RouteTag = Slot | typeof STAGING_TAG;

/** A block as every plan here writes it: a named revision. */
export interface PinnedTarget {
  type: typeof REVISION;
  revision: string;
  percent: number;
  tag?: RouteTag;
}

export interface ServiceTraffic {
  traffic: readonly TrafficTarget[];
  /** The revision LATEST stands for (the service's latestReadyRevision), read before any change. */
  latestReadyRevision?: string | undefined;
}

/** What serves: the revision with all the traffic and its slot tag (null for the first, untagged revision). */
export interface LiveTraffic {
  revision: string;
  slot: Slot | null;
}

export interface SlotRevisions {
  live: LiveTraffic | null;
  /** The revision each slot tag names, whether it serves or not. */
  tagged: Partial<Record<Slot, string>>;
}

/** The revision the staging tag names, if any. */
export function stagedRevision(current: ServiceTraffic): string | undefined {
  return pin(current).find((target) => target.tag === STAGING_TAG)?.revision;
}

/** Moves the staging tag to `revision` (0%, or the traffic it has), or removes it (undefined); users are untouched. */
export function planStaging(current: ServiceTraffic, revision: string | undefined): PinnedTarget[] {
  const others = pin(current).filter((target) => target.tag !== STAGING_TAG);
  return normalize(revision === undefined ? others : [...others, { type: REVISION, revision: revisionName(revision), percent: 0, tag: STAGING_TAG }]);
}

function isSlot(tag: string | null | undefined): tag is Slot {
  return (SLOTS as readonly string[]).includes(tag ?? '');
}

function isRouteTag(tag: string | null | undefined): tag is RouteTag {
  return isSlot(tag) || tag === STAGING_TAG;
}

/** Short revision name: the API may return `projects/.../revisions/<name>`. */
export function revisionName(revision: string): string {
  return revision.slice(revision.lastIndexOf('/') + 1);
}

/** The blocks with LATEST replaced by the revision it stands for, every name short. */
export function pin(current: ServiceTraffic): PinnedTarget[] {
  return current.traffic.map((target) => {
    const isLatest = target.type === LATEST || (!target.revision && target.type !== REVISION);
    const revision = isLatest ? current.latestReadyRevision : target.revision;
    if (!revision) {
      throw new DeployError(
        'The Cloud Run service routes traffic to its latest revision, but no ready revision is known',
        'check the service with `gcloud run services describe <service> --region <region>`; a service that never became ready needs `pulumi up` first',
      );
    }
    const tag = target.tag ?? undefined;
    return { type: REVISION, revision: revisionName(revision), percent: target.percent ?? 0, ...(isRouteTag(tag) ? { tag } : {}) };
  });
}

/** Reads which revision serves and which revision each slot tag names. */
export function readSlots(current: ServiceTraffic): SlotRevisions {
  const pinned = pin(current);
  const serving = pinned.filter((target) => target.percent > 0);
  const servingRevisions = [...new Set(serving.map((target) => target.revision))];
  if (servingRevisions.length > 1) {
    throw new DeployError(
      `The Cloud Run service splits traffic between ${servingRevisions.join(', ')}; a release moves all of it at once and will not guess which one is live`,
      'send all traffic to one revision (`gcloud run services update-traffic <service> --to-revisions <revision>=100`), then run pulumi up again',
    );
  }
  const liveRevision = servingRevisions[0];
  const tagged: Partial<Record<Slot, string>> = {};
  for (const target of pinned) if (isSlot(target.tag)) tagged[target.tag] = target.revision;
  const liveSlot = liveRevision === undefined ? null : (SLOTS.find((slot) => tagged[slot] === liveRevision) ?? null);
  return { live: liveRevision === undefined ? null : { revision: liveRevision, slot: liveSlot }, tagged };
}

/**
 * Gives `revision` the tag `slot` at 0%: the gate can reach it at the tag's URL, users stay where
 * they are (pinned by name). The slot's tag leaves whichever revision had it.
 */
export function planStage(current: ServiceTraffic, slot: Slot, revision: string): PinnedTarget[] {
  const name = revisionName(revision);
  const { live } = readSlots(current);
  if (live?.slot === slot && live.revision !== name) {
    throw new DeployError(`Cannot stage ${name} in slot ${slot}: ${slot} serves users now (${live.revision})`, 'stage the idle slot; this is a bug in the release order, please report it');
  }
  const untagged = pin(current).map((target) => (target.tag === slot ? withoutTag(target) : target));
  return normalize([...untagged, { type: REVISION, revision: name, percent: 0, tag: slot }]);
}

/** All traffic to the revision tagged `slot`, by name; every tag stays so the other slot remains a rollback target. */
export function planSwitch(current: ServiceTraffic, slot: Slot): PinnedTarget[] {
  const pinned = pin(current);
  const target = pinned.find((entry) => entry.tag === slot);
  if (!target) {
    throw new DeployError(`Cannot switch to slot ${slot}: no revision carries its tag`, 'stage the slot first; this is a bug in the release order, please report it');
  }
  return normalize(pinned.map((entry) => ({ ...entry, percent: entry.tag === slot ? 100 : 0 })));
}

/** Puts a traffic list a switch replaced back, exactly (as blocks pinned by name). */
export function planRestore(previous: ServiceTraffic): PinnedTarget[] {
  return normalize(pin(previous));
}

/** Removes the slot's tag (a slot removed after a failed start); users are untouched. */
export function planUntag(current: ServiceTraffic, slot: Slot): PinnedTarget[] {
  const { live } = readSlots(current);
  if (live?.slot === slot) throw new DeployError(`Cannot remove slot ${slot}: it serves users now (${live.revision})`, 'this is a bug in the release order, please report it');
  const revision = pin(current).find((target) => target.tag === slot)?.revision;
  return normalize(pin(current).map((target) => (target.tag === slot || (target.tag === STAGING_TAG && target.revision === revision) ? withoutTag(target) : target)));
}

function withoutTag(target: PinnedTarget): PinnedTarget {
  return { type: target.type, revision: target.revision, percent: target.percent };
}

/**
 * One block per (revision, tag): percentages of the same revision added up, blocks with no
 * traffic and no tag dropped (Cloud Run keeps nothing for them), serving blocks first.
 */
function normalize(targets: readonly PinnedTarget[]): PinnedTarget[] {
  const merged = new Map<string, PinnedTarget>();
  for (const target of targets) {
    const key = `${target.revision}\0${target.tag ?? ''}`;
    const existing = merged.get(key);
    merged.set(key, existing ? { ...existing, percent: existing.percent + target.percent } : { ...target });
  }
  // A revision that serves keeps its traffic on one block: on its tagged block when it has one.
  const result = [...merged.values()];
  for (const untagged of result.filter((t) => !t.tag && t.percent > 0)) {
    const tagged = result.find((t) => t.tag && t.revision === untagged.revision);
    if (tagged) {
      tagged.percent += untagged.percent;
      untagged.percent = 0;
    }
  }
  return result.filter((t) => t.percent > 0 || t.tag).sort((a, b) => b.percent - a.percent || (a.tag ?? '').localeCompare(b.tag ?? ''));
}
