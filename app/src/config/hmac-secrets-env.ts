import { HMAC_SECRET_GENERATE_HINT, parseHmacSecret, type HmacSecret } from '../auth/hmac-secrets.js';
import { UserError } from '../errors.js';
import type { AppConfig } from './app-config.js';
import { HMAC_SECRET_ENV } from './defaults.js';
import { envSource, type ConfigProblem } from './problems.js';

const ROTATED_PREFIX = `${HMAC_SECRET_ENV}_`;

/** TK_HMAC_SECRET and every TK_HMAC_SECRET_<anything>: names this module answers for. */
export function isHmacSecretEnv(name: string): boolean {
  return name === HMAC_SECRET_ENV || name.startsWith(ROTATED_PREFIX);
}

/**
 * Reads the primary secret (TK_HMAC_SECRET, used for new keys) and the older ones kept
 * for rotation (TK_HMAC_SECRET_1..N, in number order). `env` holds only non-empty values.
 */
export function readHmacSecrets(env: Record<string, string>): { secrets: HmacSecret[]; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const rotated: { name: string; number: number }[] = [];
  for (const name of Object.keys(env)) {
    if (!name.startsWith(ROTATED_PREFIX)) continue;
    const suffix = name.slice(ROTATED_PREFIX.length);
    if (/^[1-9][0-9]{0,5}$/.test(suffix)) {
      rotated.push({ name, number: Number(suffix) });
    } else {
      problems.push({
        key: name.toLowerCase().replace(/^tk_/, ''),
        source: envSource(name),
        problem: 'is not a recognised name for an older HMAC secret',
        fix: `number older secrets from 1: ${ROTATED_PREFIX}1, ${ROTATED_PREFIX}2, ...`,
      });
    }
  }
  rotated.sort((a, b) => a.number - b.number);
  const names = [...(env[HMAC_SECRET_ENV] !== undefined ? [HMAC_SECRET_ENV] : []), ...rotated.map((r) => r.name)];

  const secrets: HmacSecret[] = [];
  const nameById = new Map<string, string>();
  for (const name of names) {
    const key = name.toLowerCase().replace(/^tk_/, '');
    const parsed = parseHmacSecret(env[name] ?? '');
    if (typeof parsed === 'string') {
      problems.push({ key, source: envSource(name), problem: `is malformed: ${parsed}`, fix: HMAC_SECRET_GENERATE_HINT });
      continue;
    }
    const earlier = nameById.get(parsed.id);
    if (earlier) {
      problems.push({
        key,
        source: envSource(name),
        problem: `has the same secret id ${parsed.id} as ${earlier}`,
        fix: `give each secret its own id, or remove ${name} if it repeats ${earlier}`,
      });
      continue;
    }
    nameById.set(parsed.id, name);
    secrets.push(parsed);
  }

  if (env[HMAC_SECRET_ENV] === undefined && rotated.length > 0) {
    problems.push({
      key: 'hmac_secret',
      source: envSource(HMAC_SECRET_ENV),
      problem: `is not set, but older secrets are (${rotated.map((r) => r.name).join(', ')}); the primary signs new API keys`,
      fix: `set ${HMAC_SECRET_ENV} to the newest secret; ${HMAC_SECRET_GENERATE_HINT}`,
    });
  }
  return { secrets, problems };
}

/** The configured secrets, primary first; throws when none is set (sensor-api and web-ui need one). */
export function requireHmacSecrets(config: Pick<AppConfig, 'hmacSecrets'>): HmacSecret[] {
  if (config.hmacSecrets.length === 0) {
    throw new UserError(
      `No HMAC secret configured: ${HMAC_SECRET_ENV} must be set to hash and verify API keys`,
      HMAC_SECRET_GENERATE_HINT,
    );
  }
  return config.hmacSecrets;
}
