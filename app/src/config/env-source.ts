import { closestName } from './closest-name.js';
import { coerceText } from './coerce-text.js';
import { CONFIG_FILE_ENV, DATABASE_PASSWORD_ENV } from './defaults.js';
import { isHmacSecretEnv } from './hmac-secrets-env.js';
import type { Layer, SourceReading } from './layer.js';
import { envSource, type ConfigProblem } from './problems.js';
import { checkSetting, SECTIONS, SETTINGS, SETTINGS_BY_ENV } from './schema.js';

const PREFIX = 'TK_';
const SETTING_ENV_NAMES = SETTINGS.map((s) => s.env);
const OTHER_ENV_NAMES = [CONFIG_FILE_ENV, DATABASE_PASSWORD_ENV, 'TK_HMAC_SECRET'];
/** Prefixes that mark a variable as meant for us even when the rest is misspelt. */
const OUR_PREFIXES = [...SECTIONS.map((s) => `${PREFIX}${s.toUpperCase()}_`), `${PREFIX}HMAC_`, `${PREFIX}COMMON_`, `${PREFIX}DB_`];

/** Drops unset and empty variables: an empty value means "not set", as in most shells' intent. */
export function nonEmptyEnv(env: Record<string, string | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined && value !== '') result[name] = value;
  return result;
}

/**
 * Settings from TK_<SECTION>_<KEY> variables. Variables other tools might own (TK_LIBRARY
 * belongs to Tcl/Tk) are left alone; ones that look like a misspelt setting are reported.
 */
export function readEnvLayer(env: Record<string, string>): SourceReading {
  const layer: Layer = new Map();
  const problems: ConfigProblem[] = [];
  for (const [name, text] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (!name.startsWith(PREFIX)) continue;
    const setting = SETTINGS_BY_ENV.get(name);
    if (setting) {
      const coerced = coerceText(setting, text);
      const checked = coerced.ok ? checkSetting(setting, coerced.value) : coerced;
      if (checked.ok) layer.set(setting.id, { value: checked.value, source: envSource(name) });
      else problems.push({ key: setting.id, source: envSource(name), problem: checked.problem, fix: checked.fix });
      continue;
    }
    if (OTHER_ENV_NAMES.includes(name) || isHmacSecretEnv(name)) continue;
    const suggestion = suggestEnvName(name);
    if (suggestion === undefined && !OUR_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    problems.push({
      key: name,
      source: envSource(name),
      problem: 'is not a trapperkeeper setting',
      fix: suggestion ? `did you mean ${suggestion}? rename or unset it` : `unset it (known: ${SETTING_ENV_NAMES.join(', ')})`,
    });
  }
  return { layer, problems };
}

function suggestEnvName(name: string): string | undefined {
  const known = [...SETTING_ENV_NAMES, ...OTHER_ENV_NAMES];
  if (name.startsWith(`${PREFIX}COMMON_`)) {
    const withoutCommon = `${PREFIX}${name.slice(`${PREFIX}COMMON_`.length)}`;
    if (known.includes(withoutCommon)) return withoutCommon;
  }
  if (name === `${PREFIX}DB_URL` || name === `${PREFIX}COMMON_DB_URL`) return `${PREFIX}DATABASE_URL`;
  return closestName(name, known, 2);
}
