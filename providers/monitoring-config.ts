import type { ConfigProblem } from './config-errors.js';
import { configSetCommand } from './config-errors.js';
import type { SecretSources } from './stack-secrets.js';

/**
 * Grafana's admin password: a stack secret like postgresPassword (the stack config set with
 * --secret, else the environment, else `.env.<stack>`), but needed only with monitoring.enabled,
 * so a stack without monitoring is never asked for it.
 */
export const GRAFANA_ADMIN_PASSWORD = {
  configKey: 'grafanaAdminPassword',
  envName: 'TK_GRAFANA_ADMIN_PASSWORD',
  example: '"$(openssl rand -base64 24)"',
  minLength: 12,
} as const;

export interface GrafanaPasswordSources {
  /** monitoring.enabled as set (undefined or anything else: off). */
  enabled: boolean;
  /** The decrypted config value, when set. */
  configValue: string | undefined;
  /** The config key holds the value in plain text (set without --secret). */
  storedInPlaintext: boolean;
  processEnv: SecretSources['processEnv'];
  envFile: SecretSources['envFile'];
}

/** The password when monitoring is on (or a problem saying how to set it); nothing when off. */
export function resolveGrafanaAdminPassword(sources: GrafanaPasswordSources, stack: string): { value?: string; problems: ConfigProblem[] } {
  if (!sources.enabled) return { problems: [] };
  const { configKey, envName, example, minLength } = GRAFANA_ADMIN_PASSWORD;
  const fix = `${configSetCommand(configKey, example, { secret: true })}  # or ${envName}=... in .env.${stack}`;
  const present = (value: string | undefined) => (value === undefined || value.trim() === '' ? undefined : value);
  const value = present(sources.configValue) ?? present(sources.processEnv[envName]) ?? present(sources.envFile.values[envName]);
  const problems: ConfigProblem[] = [];
  if (present(sources.configValue) !== undefined && sources.storedInPlaintext) {
    problems.push({
      path: configKey,
      problem: `is stored in plain text in Pulumi.${stack}.yaml`,
      fix: `${configSetCommand(configKey, example, { secret: true })}  # a new value: the old one is in your history`,
    });
  }
  if (value === undefined) {
    problems.push({ path: configKey, problem: `is required with monitoring.enabled (checked the stack config, $${envName} and .env.${stack})`, fix });
    return { problems };
  }
  if (value.length < minLength) {
    problems.push({ path: configKey, problem: `must be at least ${minLength} characters`, fix });
    return { problems };
  }
  return problems.length > 0 ? { problems } : { value, problems };
}
