import { DeployError } from '../components/errors.js';
import type { DockerEngine } from '../providers/docker/engine.js';

/** The app's own CLI inside its image (app/Dockerfile's ENTRYPOINT, which `docker exec` does not use). */
export const APP_CLI = ['node', '/opt/trapperkeeper/app/bin/trapperkeeper.js'];

/**
 * Runs `trapperkeeper <args>` inside a running app container, so it uses the release's own
 * code, configuration and secrets (TK_DATABASE_URL, TK_HMAC_SECRET are in the container's
 * environment, never on a command line here). `secretEnv` values reach the command as `-e NAME`
 * with the value in the docker CLI's environment.
 */
export async function runAppCommand(
  engine: DockerEngine,
  container: string,
  args: string[],
  options: { secretEnv?: Record<string, string>; what: string; fix: string },
): Promise<string> {
  const passEnv = Object.keys(options.secretEnv ?? {}).flatMap((name) => ['-e', name]);
  const result = await engine.exec(['exec', '-i', ...passEnv, container, ...APP_CLI, ...args], { env: options.secretEnv ?? {}, timeoutMs: 120_000 });
  if (result.exitCode !== 0) {
    const reason = result.stderr.trim().split('\n').filter((l) => !/^\s*at /.test(l)).slice(-3).join(' | ') || `exit code ${result.exitCode}`;
    throw new DeployError(`${options.what} failed in ${container}: ${reason}`, options.fix);
  }
  return result.stdout;
}
