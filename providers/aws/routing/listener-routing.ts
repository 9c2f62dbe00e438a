import {
  AddTagsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  ModifyListenerCommand,
  type Action,
  type ElasticLoadBalancingV2Client,
  type Listener,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeployError } from '../../../components/errors.js';
import { SLOTS, type AppService, type ReleasePlan, type Slot } from '../../../components/release/plan.js';
import type { ProxyRouting, RoutedRelease, RoutingPort, SwitchResult } from '../../../components/release/ports.js';
import type { AwsTargetPlan } from '../plan-target.js';

/**
 * Routing on an Application Load Balancer. Users reach the stack through two listeners (HTTPS for
 * the web UI, HTTPS/gRPC for the sensor API), the health gate through two test listeners of the
 * same kind. Each forwards to the blue and green target groups of its service with weights
 * 100/0: the slot with weight 100 is the one served. A listener serves nothing when it answers a
 * fixed 503 (a restore to nothing) or forwards to a slot no release has tagged (a new stack's). Which release a slot holds is a tag on its target groups, written when it is
 * staged, while it serves no user; the weights alone decide who serves, so a switch is one
 * ModifyListener per public listener (web first, then gRPC) and nothing else.
 */
export const RELEASE_TAG = 'trapperkeeper:release-id';

/** A listener's default action after a restore to nothing. */
export const NOTHING_LIVE: Action = {
  Type: 'fixed-response',
  FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'No TrapperKeeper release is live on this listener yet.' },
};

/** The forward action that sends everything to `slot`'s target group and nothing to the other slot's. */
export function forwardTo(slot: Slot, arns: Record<Slot, string>): Action {
  return {
    Type: 'forward',
    ForwardConfig: {
      TargetGroups: SLOTS.map((s) => ({ TargetGroupArn: arns[s], Weight: s === slot ? 100 : 0 })),
      TargetGroupStickinessConfig: { Enabled: false },
    },
  };
}

/**
 * Which slot a listener's default action serves: null for the fixed 503, the one target group
 * with a positive weight otherwise. Any other shape (a split, an unknown target group) is not
 * something a release left, so it is refused rather than guessed.
 */
export function slotOfActions(actions: readonly Action[] | undefined, arns: Record<Slot, string>, listener: string): Slot | null {
  const action = actions?.length === 1 ? actions[0] : undefined;
  if (action?.Type === 'fixed-response') return null;
  if (action?.Type === 'forward') {
    const weighted = action.ForwardConfig?.TargetGroups ?? (action.TargetGroupArn ? [{ TargetGroupArn: action.TargetGroupArn, Weight: 1 }] : []);
    const served = weighted.filter((tg) => (tg.Weight ?? 1) > 0);
    const slot = served.length === 1 ? SLOTS.find((s) => arns[s] === served[0]?.TargetGroupArn) : undefined;
    if (slot) return slot;
  }
  throw new DeployError(
    `The load balancer listener ${listener} does not route as a release leaves it (one slot's target group at weight 100, or a fixed 503): ${JSON.stringify(actions ?? [])}`,
    `put it back with \`pulumi up\` after \`pulumi refresh\`, or point its default action at the live slot's target group with aws elbv2 modify-listener --listener-arn ${listener}`,
  );
}

type ListenerRole = 'web' | 'grpc' | 'stagingWeb' | 'stagingGrpc';
const SERVICE_OF: Record<ListenerRole, AppService> = { web: 'web-ui', grpc: 'sensor-api', stagingWeb: 'web-ui', stagingGrpc: 'sensor-api' };

interface Resolved {
  listeners: Record<ListenerRole, Listener & { ListenerArn: string }>;
  /** Target group ARNs by service, then slot. */
  targetGroups: Record<AppService, Record<Slot, string>>;
}

export interface ElbRouting extends RoutingPort {
  /** The routing of one listener pair, for tests and `status`. */
  readListenerSlots(): Promise<Record<ListenerRole, Slot | null>>;
  /** What serves, as `read` says, without repairing an interrupted switch: what an operator's `status` reads while a release may be switching. */
  peek(): Promise<ProxyRouting>;
}

export function elbRouting(client: ElasticLoadBalancingV2Client, target: AwsTargetPlan): ElbRouting {
  let resolved: Promise<Resolved> | undefined;
  // ARNs do not change during a release: looked up by name once.
  const resolve = () => (resolved ??= resolveArns(client, target).catch((error: unknown) => {
    resolved = undefined;
    throw error;
  }));

  async function slotsNow(): Promise<Record<ListenerRole, Slot | null>> {
    const { listeners, targetGroups } = await resolve();
    const fresh = await client.send(new DescribeListenersCommand({ ListenerArns: Object.values(listeners).map((l) => l.ListenerArn) }));
    const byArn = new Map((fresh.Listeners ?? []).map((l) => [l.ListenerArn, l]));
    const slotOf = (role: ListenerRole) => {
      const arn = listeners[role].ListenerArn;
      return slotOfActions(byArn.get(arn)?.DefaultActions, targetGroups[SERVICE_OF[role]], arn);
    };
    return { web: slotOf('web'), grpc: slotOf('grpc'), stagingWeb: slotOf('stagingWeb'), stagingGrpc: slotOf('stagingGrpc') };
  }

  async function point(role: ListenerRole, slot: Slot | null): Promise<void> {
    const { listeners, targetGroups } = await resolve();
    const action = slot === null ? NOTHING_LIVE : forwardTo(slot, targetGroups[SERVICE_OF[role]]);
    await client.send(new ModifyListenerCommand({ ListenerArn: listeners[role].ListenerArn, DefaultActions: [action] }));
  }

  /** The release a slot holds; undefined for a slot no release has staged yet (a new stack's). */
  async function releaseOf(slot: Slot): Promise<string | undefined> {
    const { targetGroups } = await resolve();
    const arn = targetGroups['web-ui'][slot];
    const { TagDescriptions: tags } = await client.send(new DescribeTagsCommand({ ResourceArns: [arn] }));
    return tags?.[0]?.Tags?.find((tag) => tag.Key === RELEASE_TAG)?.Value || undefined;
  }

  async function tagSlot(slot: Slot, releaseId: string): Promise<void> {
    const { targetGroups } = await resolve();
    await client.send(new AddTagsCommand({ ResourceArns: [targetGroups['web-ui'][slot], targetGroups['sensor-api'][slot]], Tags: [{ Key: RELEASE_TAG, Value: releaseId }] }));
  }

  /** A listener forwarding to a slot no release has tagged (as a new stack's do) serves nothing. */
  async function routed(slot: Slot | null): Promise<RoutedRelease | null> {
    const releaseId = slot === null ? undefined : await releaseOf(slot);
    return slot === null || releaseId === undefined ? null : { slot, releaseId };
  }

  async function read(): Promise<ProxyRouting> {
    const slots = await slotsNow();
    // The web listener decides; a gRPC listener left behind by an interrupted switch follows it.
    if (slots.grpc !== slots.web) await point('grpc', slots.web);
    if (slots.stagingGrpc !== slots.stagingWeb) await point('stagingGrpc', slots.stagingWeb);
    return { live: await routed(slots.web), staging: await routed(slots.stagingWeb) };
  }

  async function apply(routing: ProxyRouting): Promise<void> {
    for (const routedRelease of [routing.live, routing.staging]) if (routedRelease) await tagSlot(routedRelease.slot, routedRelease.releaseId);
    await point('web', routing.live?.slot ?? null);
    await point('grpc', routing.live?.slot ?? null);
    await point('stagingWeb', routing.staging?.slot ?? null);
    await point('stagingGrpc', routing.staging?.slot ?? null);
  }

  return {
    read,
    readListenerSlots: slotsNow,

    async peek() {
      const slots = await slotsNow();
      return { live: await routed(slots.web), staging: await routed(slots.stagingWeb) };
    },

    async stage(plan: ReleasePlan, slot: Slot, live: RoutedRelease | null) {
      const now = await read();
      expectLive(now.live, live);
      if (now.live?.slot === slot) {
        throw new DeployError(`The ${slot} slot serves users (${now.live.releaseId}); only the idle slot is staged`, 'release again with `pulumi up`: it stages the other slot');
      }
      // A new stack's public listeners forward to an untagged slot; once tagged it would serve
      // users before any gate, so they answer the fixed 503 until the switch.
      if (now.live === null) {
        await point('web', null);
        await point('grpc', null);
      }
      await tagSlot(slot, plan.image.releaseId);
      await point('stagingWeb', slot);
      await point('stagingGrpc', slot);
    },

    async switchTo(plan: ReleasePlan, slot: Slot, expectedLive: RoutedRelease | null): Promise<SwitchResult> {
      const previous = await read();
      expectLive(previous.live, expectedLive);
      const started = Date.now();
      if (previous.live?.slot !== slot) await tagSlot(slot, plan.image.releaseId);
      const routing: ProxyRouting = {
        live: { slot, releaseId: plan.image.releaseId },
        staging: previous.live && previous.live.slot !== slot ? previous.live : null,
      };
      try {
        await point('web', slot);
        await point('grpc', slot);
      } catch (error) {
        await apply(previous);
        throw error;
      }
      const durationMs = Date.now() - started;
      // The test listeners now reach the slot users just left (the warm rollback target).
      await point('stagingWeb', routing.staging?.slot ?? null);
      await point('stagingGrpc', routing.staging?.slot ?? null);
      return { previous, routing, durationMs };
    },

    async restore(switched: SwitchResult) {
      await apply(switched.previous);
    },
  };
}

function expectLive(live: RoutedRelease | null, expected: RoutedRelease | null): void {
  if (live?.slot === expected?.slot && live?.releaseId === expected?.releaseId) return;
  const describe = (r: RoutedRelease | null) => (r ? `${r.releaseId} (${r.slot})` : 'nothing');
  throw new DeployError(
    `The load balancer serves ${describe(live)}, not ${describe(expected)} as this release read at its start: another release or a person changed it meanwhile`,
    'release again with `pulumi up` (it reads what serves afresh)',
  );
}

async function resolveArns(client: ElasticLoadBalancingV2Client, target: AwsTargetPlan): Promise<Resolved> {
  const missing = (what: string) =>
    new DeployError(`The load balancer ${target.loadBalancer} in ${target.region} has no ${what}`, '`pulumi up` declares it (run `pulumi refresh` first if it was changed by hand)');
  const { LoadBalancers: balancers } = await client.send(new DescribeLoadBalancersCommand({ Names: [target.loadBalancer] })).catch((error: unknown) => {
    if ((error as { name?: string }).name === 'LoadBalancerNotFoundException') throw missing('such load balancer');
    throw error;
  });
  const balancerArn = balancers?.[0]?.LoadBalancerArn;
  if (!balancerArn) throw missing('such load balancer');
  const { Listeners: all } = await client.send(new DescribeListenersCommand({ LoadBalancerArn: balancerArn }));
  const listener = (role: ListenerRole) => {
    const found = (all ?? []).find((l) => l.Port === target.listeners[role]);
    if (!found?.ListenerArn) throw missing(`listener on port ${target.listeners[role]} (${role})`);
    return found as Listener & { ListenerArn: string };
  };
  const names = SLOTS.flatMap((slot) => [target.targetGroups[slot]['web-ui'], target.targetGroups[slot]['sensor-api']]);
  const { TargetGroups: groups } = await client.send(new DescribeTargetGroupsCommand({ Names: names }));
  const arnOf = (name: string) => {
    const arn = groups?.find((tg) => tg.TargetGroupName === name)?.TargetGroupArn;
    if (!arn) throw missing(`target group ${name}`);
    return arn;
  };
  const bySlot = (service: AppService) => Object.fromEntries(SLOTS.map((slot) => [slot, arnOf(target.targetGroups[slot][service])])) as Record<Slot, string>;
  return {
    listeners: { web: listener('web'), grpc: listener('grpc'), stagingWeb: listener('stagingWeb'), stagingGrpc: listener('stagingGrpc') },
    targetGroups: { 'web-ui': bySlot('web-ui'), 'sensor-api': bySlot('sensor-api') },
  };
}
