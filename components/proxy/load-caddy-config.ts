import type { DockerEngine } from '../../providers/docker/engine.js';
import { DeployError } from '../errors.js';
import { CADDY_ADMIN_ADDRESS } from './constants.js';
import { requireCaddyRunning } from './read-proxy-state.js';

/**
 * `caddy reload` inside the Caddy container, the config on stdin: it POSTs to the admin API's
 * /load on the container's loopback, which validates the whole config and keeps the previous one
 * serving if anything in it fails. `--force` loads even an identical config, so a load is never
 * skipped on the assumption that Caddy already serves it.
 */
export function planLoadCaddyConfig(container: string): string[] {
  return ['exec', '--interactive', container, 'caddy', 'reload', '--config', '-', '--address', CADDY_ADMIN_ADDRESS, '--force'];
}

export interface LoadedConfig {
  durationMs: number;
}

/** Loads a whole config into Caddy atomically; throws DeployError (old config still serving) if Caddy rejects it. */
export async function loadCaddyConfig(engine: DockerEngine, container: string, config: unknown): Promise<LoadedConfig> {
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
