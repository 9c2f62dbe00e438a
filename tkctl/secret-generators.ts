import { randomBytes } from 'node:crypto';
import { GRAFANA_ADMIN_PASSWORD } from '../providers/monitoring-config.js';
import { STACK_SECRETS, type SecretName } from '../providers/stack-secrets.js';

/**
 * The secrets `tkctl init` (and `node add`) generate once per stack: every secret the stack config
 * always needs (providers/stack-secrets.ts), plus Grafana's admin password, which the program asks
 * for only with monitoring.enabled (providers/monitoring-config.ts) but which is generated anyway,
 * so turning monitoring on later is one config key and no secret to invent.
 */
export type GeneratedSecret = SecretName | typeof GRAFANA_ADMIN_PASSWORD.configKey;

interface SecretGenerator {
  /** The stack config key (`pulumi config set --secret <configKey>`). */
  configKey: string;
  generate: () => string;
  /** The rule the program applies when it loads the stack; undefined when the value passes. */
  check: (value: string) => string | undefined;
}

/**
 * Typed by GeneratedSecret: a secret added to providers/stack-secrets.ts (a session secret, say)
 * fails the typecheck until it gets a generator here, so init never silently leaves one out.
 */
export const SECRET_GENERATORS: Record<GeneratedSecret, SecretGenerator> = {
  // Hex: no character a database URL or a shell would need escaped.
  postgresPassword: { ...STACK_SECRETS.postgresPassword, generate: () => randomBytes(24).toString('hex') },
  // The app's TK_HMAC_SECRET: `<32 hex id>:<base64 of 32 random bytes>` (README's openssl line).
  hmacSecret: { ...STACK_SECRETS.hmacSecret, generate: () => `${randomBytes(16).toString('hex')}:${randomBytes(32).toString('base64')}` },
  grafanaAdminPassword: {
    configKey: GRAFANA_ADMIN_PASSWORD.configKey,
    generate: () => randomBytes(24).toString('hex'),
    check: (value) => (value.length >= GRAFANA_ADMIN_PASSWORD.minLength ? undefined : `must be at least ${GRAFANA_ADMIN_PASSWORD.minLength} characters`),
  },
};

export const GENERATED_SECRETS = Object.keys(SECRET_GENERATORS) as GeneratedSecret[];

/** A generated value, checked against the same rule the program applies when it loads the stack. */
export function generateSecret(name: GeneratedSecret): string {
  const generator = SECRET_GENERATORS[name];
  const value = generator.generate();
  const wrong = generator.check(value);
  if (wrong) throw new Error(`generated ${name} ${wrong}`);
  return value;
}
