import type { DockerEngine } from '../engine.js';
import { DeployError } from '../../../components/errors.js';
import type { ReleaseSpec, Slot } from '../spec.js';
import type { ProxyRouting, RoutedRelease } from './constants.js';
import type { SwitchResult as RoutingSwitch } from '../../../components/release/ports.js';
import { ensureProxyConfig } from './load-caddy-config.js';
import { readProxyState, type ProxyState } from './read-proxy-state.js';
import { applyRouting } from './routing.js';

function sameRelease(a: RoutedRelease | null, b: RoutedRelease | null): boolean {
  return a?.slot === b?.slot && a?.releaseId === b?.releaseId;
}

function describe(target: RoutedRelease | null): string {
  return target ? `${target.slot} (release ${target.releaseId})` : 'nothing';
}

/** Reads what Caddy serves and refuses to go on if the live release is not the one the release read. */
async function readExpecting(engine: DockerEngine, spec: ReleaseSpec, expectedLive: RoutedRelease | null | undefined): Promise<ProxyState> {
  const state = await readProxyState(engine, spec);
  if (expectedLive !== undefined && !sameRelease(expectedLive, state.routing.live)) {
    throw new DeployError(
      `Caddy now serves ${describe(state.routing.live)}, not ${describe(expectedLive)} as when this release started; traffic was not changed`,
      'check for another release or a manual change, then run the release again',
    );
  }
  return state;
}

/**
 * Points the staging listeners at `slot` (running this release) so the health gate probes it
 * through the same proxy and upstream addresses that will serve it. The public listeners keep
 * `live`, the live release the caller read from Caddy at the start of the release.
 */
export async function stageSlot(engine: DockerEngine, spec: ReleaseSpec, options: { live: RoutedRelease | null; slot: Slot }): Promise<ProxyRouting> {
  if (options.live?.slot === options.slot) {
    throw new DeployError(`Cannot stage the ${options.slot} slot: it is the live slot`, 'stage the idle slot (the other one)');
  }
  const state = await readExpecting(engine, spec, options.live);
  await ensureProxyConfig(engine, spec, state);
  const routing: ProxyRouting = { live: state.routing.live, staging: { slot: options.slot, releaseId: spec.image.releaseId } };
  await applyRouting(engine, spec.proxy.container, state.routing, routing);
  return routing;
}

export interface SwitchResult extends RoutingSwitch {
  /** Whether the generated config had to be (re)loaded first. */
  configLoaded: boolean;
}

export interface SwitchOptions {
  /**
   * The live release the caller read at the start of the release; the switch refuses to go on
   * if Caddy serves something else by now (another release or a hand edit got in between).
   */
  expectedLive?: RoutedRelease | null;
}

/**
 * Moves all public traffic (HTTP and gRPC, every route, every open connection) to `target`
 * running this release in one atomic step; the staging listeners then point at the previous
 * live slot, the rollback target. Requests in flight finish on the old slot; every request that
 * starts after the switch goes to the new one.
 */
export async function switchTraffic(engine: DockerEngine, spec: ReleaseSpec, target: Slot, options: SwitchOptions = {}): Promise<SwitchResult> {
  const state = await readExpecting(engine, spec, options.expectedLive);
  const { loaded } = await ensureProxyConfig(engine, spec, state);
  const previous = state.routing;
  const routing: ProxyRouting = {
    live: { slot: target, releaseId: spec.image.releaseId },
    staging: previous.live && previous.live.slot !== target ? previous.live : null,
  };
  const { durationMs } = await applyRouting(engine, spec.proxy.container, previous, routing);
  return { previous, routing, durationMs, configLoaded: loaded };
}

/** Puts back the routing a switch replaced (verification failed); fails if it changed since. */
export async function restoreRouting(engine: DockerEngine, spec: ReleaseSpec, switched: RoutingSwitch): Promise<void> {
  await applyRouting(engine, spec.proxy.container, switched.routing, switched.previous);
}
