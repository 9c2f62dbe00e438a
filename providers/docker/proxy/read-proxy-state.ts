import { isDeepStrictEqual } from 'node:util';
import type { DockerEngine } from '../engine.js';
import { DeployError } from '../../../components/errors.js';
import type { ReleaseSpec } from '../spec.js';
import { CADDY_AUTOSAVE_PATH, PROXY_SERVERS, type ProxyRouting } from './constants.js';
import { renderCaddyConfig, type CaddyConfig } from './render-caddy-config.js';
import { parseRouting, planReadRouting } from './routing.js';

export interface ProxyState {
  /** The config Caddy serves, exactly as it last loaded it. */
  config: unknown;
  /** True when that config is the one this toolkit generates for the stack (no load needed). */
  configCurrent: boolean;
  /** Where Caddy routes the public and staging listeners (its routing markers). */
  routing: ProxyRouting;
}

/** The generated config for a release spec (Caddy's grace period is the release's drain). */
export function releaseCaddyConfig(spec: ReleaseSpec): CaddyConfig {
  return renderCaddyConfig({ prefix: spec.prefix, graceMs: spec.drainTimeoutMs, ...(spec.proxy.tls ? { tls: spec.proxy.tls } : {}) });
}

/** Whether a loaded config is the toolkit's (it has the toolkit's four servers), whatever its version. */
export function isToolkitConfig(config: unknown): boolean {
  const servers = (config as { apps?: { http?: { servers?: Record<string, unknown> } } } | null)?.apps?.http?.servers;
  return typeof servers === 'object' && servers !== null && Object.values(PROXY_SERVERS).every((name) => name in servers);
}

/** Compares a loaded config (Caddy re-encodes it) with a generated one, ignoring key order. */
export function sameCaddyConfig(loaded: unknown, generated: CaddyConfig): boolean {
  return isDeepStrictEqual(loaded, JSON.parse(JSON.stringify(generated)));
}

/** Throws DeployError unless the Caddy container is running. */
export async function requireCaddyRunning(engine: DockerEngine, container: string): Promise<void> {
  const result = await engine.exec(['container', 'inspect', '--format', '{{.State.Status}}', container]);
  const status = result.stdout.trim();
  if (result.exitCode !== 0 || status !== 'running') {
    throw new DeployError(
      `The Caddy container ${container} is ${result.exitCode !== 0 ? 'missing' : status}, so traffic cannot be routed or verified`,
      result.exitCode !== 0 ? 'pulumi up (it creates the Caddy container)' : `docker start ${container}`,
    );
  }
}

/** Exit code of the state script when Caddy has no autosaved config. */
const NO_CONFIG_EXIT_CODE = 10;
/** Separates the config from the routing markers in the state script's output. */
const ROUTING_SEPARATOR = '--- tk routing markers ---';

/** One shell script for the whole state: the autosaved config, then the routing markers. */
export function planReadProxyState(): string {
  return [`cat ${CADDY_AUTOSAVE_PATH} || exit ${NO_CONFIG_EXIT_CODE}`, `printf '\\n%s\\n' '${ROUTING_SEPARATOR}'`, planReadRouting()].join('\n');
}

/**
 * What Caddy serves, read from inside its container in one `docker exec` (the admin API is never
 * reached from outside; every release reads it several times, so each docker call counts): the
 * last loaded config (its autosave file is exactly that) and the routing markers. Throws
 * DeployError when Caddy is not running or runs a config that is not the toolkit's, since its
 * routing is then unknown.
 */
export async function readProxyState(engine: DockerEngine, spec: ReleaseSpec): Promise<ProxyState> {
  const container = spec.proxy.container;
  const result = await engine.exec(['exec', container, 'sh', '-c', planReadProxyState()]);
  if (result.exitCode === NO_CONFIG_EXIT_CODE) {
    throw new DeployError(
      `Caddy (${container}) has no loaded config at ${CADDY_AUTOSAVE_PATH}: ${result.stderr.trim()}`,
      'start Caddy with the toolkit\'s bootstrap config (caddy run --config /etc/caddy/bootstrap.json --resume): pulumi up',
    );
  }
  if (result.exitCode !== 0) {
    // Most often the container is missing or stopped: say which, with its fix.
    await requireCaddyRunning(engine, container);
    throw new DeployError(`Reading the routing state of Caddy (${container}) failed (exit code ${result.exitCode}): ${result.stderr.trim()}`, `docker logs ${container}`);
  }
  const separator = result.stdout.lastIndexOf(`\n${ROUTING_SEPARATOR}\n`);
  if (separator < 0) throw new DeployError(`Caddy (${container}) answered the state script without its routing markers`, `docker exec ${container} ls -l /`);
  const configText = result.stdout.slice(0, separator);
  const routingText = result.stdout.slice(separator + ROUTING_SEPARATOR.length + 2);
  let config: unknown;
  try {
    config = JSON.parse(configText);
  } catch (error) {
    throw new DeployError(`Caddy's ${CADDY_AUTOSAVE_PATH} is not JSON: ${(error as Error).message}`, `docker logs ${container}`);
  }
  if (!isToolkitConfig(config)) {
    throw new DeployError(
      `Caddy (${container}) serves a config the toolkit did not generate (no ${Object.values(PROXY_SERVERS).join(', ')} servers), so the live slot is unknown`,
      'restart Caddy from the toolkit\'s bootstrap config (pulumi up), then run the release again',
    );
  }
  return { config, configCurrent: sameCaddyConfig(config, releaseCaddyConfig(spec)), routing: parseRouting(routingText) };
}
