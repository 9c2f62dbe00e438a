import { randomBytes } from 'node:crypto';
import { STACK_SECRETS, type SecretName } from '../providers/stack-secrets.js';

/**
 * How `tkctl init` makes a fresh value for every secret the stack config knows
 * (providers/stack-secrets.ts). Typed by SecretName: a secret added there (a session secret, the
 * Grafana admin password once monitoring has a config key) fails the typecheck until it gets a
 * generator here, so init never silently leaves one out.
 */
export const SECRET_GENERATORS: Record<SecretName, () => string> = {
  // Hex: no character a database URL or a shell would need escaped.
  postgresPassword: () => randomBytes(24).toString('hex'),
  // The app's TK_HMAC_SECRET: `<32 hex id>:<base64 of 32 random bytes>` (README's openssl line).
  hmacSecret: () => `${randomBytes(16).toString('hex')}:${randomBytes(32).toString('base64')}`,
};

/** A generated value, checked against the same rule the program applies when it loads the stack. */
export function generateSecret(name: SecretName): string {
  const value = SECRET_GENERATORS[name]();
  const wrong = STACK_SECRETS[name].check(value);
  if (wrong) throw new Error(`generated ${name} ${wrong}`);
  return value;
}
