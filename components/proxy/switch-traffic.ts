import type { DockerEngine } from '../../providers/docker/engine.js';
import { DeployError } from '../errors.js';
import type { ReleaseSpec, Slot } from '../release/spec.js';
import type { ProxyRouting, RoutedRelease } from './constants.js';
import { loadCaddyConfig } from './load-caddy-config.js';
import { readProxyState } from './read-proxy-state.js';
import { renderCaddyConfig, type CaddyConfig } from './render-caddy-config.js';

function sameRelease(a: RoutedRelease | null, b: RoutedRelease | null): boolean {
  return a?.slot === b?.slot && a?.releaseId === b?.releaseId;
}

function describe(target: RoutedRelease | null): string {
  return target ? `${target.slot} (release ${target.releaseId})` : 'nothing';
}

/** Loads a generated config for `routing` (the release's drain timeout as Caddy's grace period). */
export async function loadRouting(engine: DockerEngine, spec: ReleaseSpec, routing: ProxyRouting): Promise<{ config: CaddyConfig; durationMs: number }> {
  const config = renderCaddyConfig({ prefix: spec.prefix, ...routing, graceMs: spec.drainTimeoutMs });
  const { durationMs } = await loadCaddyConfig(engine, spec.proxy.container, config);
  return { config, durationMs };
}

/**
 * Points the staging listeners at `slot` (running this release) so the health gate probes it
 * through the same proxy and upstream addresses that will serve it; the public routes keep
 * `live`, the live slot the release read from Caddy.
 */
export function stageSlot(engine: DockerEngine, spec: ReleaseSpec, options: { live: RoutedRelease | null; slot: Slot }) {
  if (options.live?.slot === options.slot) {
    throw new DeployError(`Cannot stage the ${options.slot} slot: it is the live slot`, 'stage the idle slot (the other one)');
  }
  return loadRouting(engine, spec, { live: options.live, staging: { slot: options.slot, releaseId: spec.image.releaseId } });
}

export interface SwitchResult {
  /** The config Caddy served before the switch, to restore when verification fails. */
  previousConfig: unknown;
  previous: ProxyRouting;
  config: CaddyConfig;
  routing: ProxyRouting;
  /** How long Caddy took to load the new config. */
  durationMs: number;
}

export interface SwitchOptions {
  /**
   * The live release the caller read at the start of the release; the switch refuses to go on
   * if Caddy serves something else by now (another release or a hand edit got in between).
   */
  expectedLive?: RoutedRelease | null;
}

/**
 * Moves all public traffic (HTTP and gRPC, every route) to `target` running this release in
 * one atomic config load; the staging listeners then point at the previous live slot, the
 * rollback target. Requests in flight finish on the old slot (Caddy's grace period), new ones go
 * to the new slot only.
 */
export async function switchTraffic(engine: DockerEngine, spec: ReleaseSpec, target: Slot, options: SwitchOptions = {}): Promise<SwitchResult> {
  const before = await readProxyState(engine, spec);
  if (options.expectedLive !== undefined && !sameRelease(options.expectedLive, before.routing.live)) {
    throw new DeployError(
      `Caddy now serves ${describe(before.routing.live)}, not ${describe(options.expectedLive)} as when this release started; traffic was not switched`,
      'check for another release or a manual change (docker logs of the Caddy container), then run the release again',
    );
  }
  const previousLive = before.routing.live;
  const routing: ProxyRouting = {
    live: { slot: target, releaseId: spec.image.releaseId },
    staging: previousLive && previousLive.slot !== target ? previousLive : null,
  };
  const { config, durationMs } = await loadRouting(engine, spec, routing);
  return { previousConfig: before.config, previous: before.routing, config, routing, durationMs };
}
