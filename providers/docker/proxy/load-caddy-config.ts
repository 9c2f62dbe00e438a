import type { DockerEngine } from '../engine.js';
import { DeployError } from '../../../components/errors.js';
import type { ReleaseSpec } from '../spec.js';
import { CADDY_ADMIN_ADDRESS } from './constants.js';
import { readProxyState, releaseCaddyConfig, requireCaddyRunning, type ProxyState } from './read-proxy-state.js';

/**
 * `caddy reload` inside the Caddy container, the config on stdin: it POSTs to the admin API's
 * /load on the container's loopback, which validates the whole config and keeps the previous one
 * serving if anything in it fails. `--force` loads even an identical config.
 */
export function planLoadCaddyConfig(container: string): string[] {
  return ['exec', '--interactive', container, 'caddy', 'reload', '--config', '-', '--address', CADDY_ADMIN_ADDRESS, '--force'];
}

/** Loads a whole config into Caddy atomically; throws DeployError (old config still serving) if Caddy rejects it. */
export async function loadCaddyConfig(engine: DockerEngine, container: string, config: unknown): Promise<{ durationMs: number }> {
  await requireCaddyRunning(engine, container);
  const started = performance.now();
  const result = await engine.exec(planLoadCaddyConfig(container), { input: JSON.stringify(config), timeoutMs: 120_000 });
  const durationMs = Math.round(performance.now() - started);
  if (result.exitCode !== 0) {
    const reason = result.stderr
      .split('\n')
      .filter((line) => line.trim() && !line.startsWith('{"level":"info"'))
      .join('\n  ');
    throw new DeployError(
      `Caddy (${container}) rejected the new proxy config and keeps serving the previous one:\n  ${reason || `exit code ${result.exitCode}`}`,
      `docker logs ${container} (a rejected generated config is a toolkit bug: report it with this message)`,
    );
  }
  return { durationMs };
}

/**
 * Makes Caddy serve the config this toolkit generates for the stack, loading it only when the
 * loaded one differs (first release after a bootstrap from another toolkit version, a changed
 * drain timeout). Releases themselves never need a load: they move routing markers.
 */
export async function ensureProxyConfig(engine: DockerEngine, spec: ReleaseSpec, state?: ProxyState): Promise<{ loaded: boolean; durationMs: number }> {
  const current = state ?? (await readProxyState(engine, spec));
  if (current.configCurrent) return { loaded: false, durationMs: 0 };
  const { durationMs } = await loadCaddyConfig(engine, spec.proxy.container, releaseCaddyConfig(spec));
  return { loaded: true, durationMs };
}
