import { coerceText } from './coerce-text.js';
import { databaseUrlHasPassword } from './database-url.js';
import { DATABASE_PASSWORD_ENV } from './defaults.js';
import type { Layer, SourceReading } from './layer.js';
import { flagSource, type ConfigProblem } from './problems.js';
import { checkSetting, SETTINGS_BY_ID } from './schema.js';

/**
 * Command-line flags, as commander parsed them (text, or numbers when the CLI already
 * converted them). The CLI decides which service a --port belongs to.
 */
export interface ConfigFlags {
  global?: { dataDir?: string; dbUrl?: string; logLevel?: string; config?: string };
  sensorApi?: { host?: string; port?: string | number; httpPort?: string | number };
  webUi?: { host?: string; port?: string | number; metricsPort?: string | number };
}

type FlagValue = string | number | undefined;

/** [value, setting id, flag as typed]; `config` is not a setting and is handled by the loader. */
function flagEntries(flags: ConfigFlags): [FlagValue, string, string][] {
  return [
    [flags.global?.dataDir, 'data_dir', '--data-dir'],
    [flags.global?.dbUrl, 'database.url', '--db-url'],
    [flags.global?.logLevel, 'log_level', '--log-level'],
    [flags.sensorApi?.host, 'sensor_api.host', '--host'],
    [flags.sensorApi?.port, 'sensor_api.port', '--port'],
    [flags.sensorApi?.httpPort, 'sensor_api.http_port', '--http-port'],
    [flags.webUi?.host, 'web_ui.host', '--host'],
    [flags.webUi?.port, 'web_ui.port', '--port'],
    [flags.webUi?.metricsPort, 'web_ui.metrics_port', '--metrics-port'],
  ];
}

export function readFlagLayer(flags: ConfigFlags): SourceReading {
  const layer: Layer = new Map();
  const problems: ConfigProblem[] = [];
  for (const [value, id, flag] of flagEntries(flags)) {
    const setting = SETTINGS_BY_ID.get(id);
    if (value === undefined || !setting) continue;
    if (id === 'database.url' && typeof value === 'string' && databaseUrlHasPassword(value)) {
      problems.push(passwordOnCommandLine(flag));
      continue;
    }
    const coerced = typeof value === 'string' ? coerceText(setting, value) : { ok: true as const, value };
    const checked = coerced.ok ? checkSetting(setting, coerced.value) : coerced;
    if (checked.ok) layer.set(id, { value: checked.value, source: flagSource(flag) });
    else problems.push({ key: id, source: flagSource(flag), problem: checked.problem, fix: checked.fix });
  }
  return { layer, problems };
}

/**
 * Secrets never come from argv: every user of the machine can read a process's command line
 * (ps, /proc/<pid>/cmdline), and shells keep it in their history.
 */
function passwordOnCommandLine(flag: string): ConfigProblem {
  return {
    key: 'database.url',
    source: flagSource(flag),
    problem: 'contains a password, and command lines are visible to every user of the machine (ps, /proc) and kept in shell history',
    fix: `pass ${flag} without the password and set the password in ${DATABASE_PASSWORD_ENV}, or set the whole URL in TK_DATABASE_URL instead of ${flag}`,
  };
}
