import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { parse as parseDotenv } from 'dotenv';
import { parseHmacSecret } from '../app/src/auth/hmac-secrets.js';
import type { ConfigProblem } from './config-errors.js';
import { configSetCommand } from './config-errors.js';

/**
 * The stack's secrets and where each may come from. Precedence, first found wins:
 *   1. the stack config, set with `pulumi config set --secret <configKey> ...` (encrypted in
 *      Pulumi.<stack>.yaml, so it travels with the stack);
 *   2. the process environment, `<envName>=...` (CI secrets);
 *   3. the stack's dotenv file `.env.<stack>` beside Pulumi.yaml (a workstation; never committed).
 * Whatever the source, a value becomes `pulumi.secret(...)` at once and is never logged.
 */
export const STACK_SECRETS = {
  /** Password of the PostgreSQL superuser the app connects as. At least 12 characters. */
  postgresPassword: {
    configKey: 'postgresPassword',
    envName: 'TK_POSTGRES_PASSWORD',
    example: '"$(openssl rand -base64 24)"',
    check: (value: string) => (value.length >= POSTGRES_PASSWORD_MIN_LENGTH ? undefined : `must be at least ${POSTGRES_PASSWORD_MIN_LENGTH} characters`),
  },
  /** TK_HMAC_SECRET of the app: `<32 lowercase hex id>:<base64 secret of at least 32 bytes>`. */
  hmacSecret: {
    configKey: 'hmacSecret',
    envName: 'TK_HMAC_SECRET',
    example: '"$(openssl rand -hex 16):$(openssl rand -base64 32)"',
    check: (value: string) => {
      const parsed = parseHmacSecret(value);
      return typeof parsed === 'string' ? `is malformed: ${parsed}` : undefined;
    },
  },
} as const;

export const POSTGRES_PASSWORD_MIN_LENGTH = 12;

export type SecretName = keyof typeof STACK_SECRETS;
export const SECRET_NAMES = Object.keys(STACK_SECRETS) as SecretName[];
export type SecretValues = Record<SecretName, string>;
/** The secrets as Pulumi sees them: every one a secret output. */
export type StackSecrets = Record<SecretName, pulumi.Output<string>>;

export interface SecretSources {
  /** Values of the secret config keys (Pulumi decrypts them for the program). */
  config: Partial<Record<SecretName, string>>;
  /** Config keys whose value is stored in plain text (set without --secret). */
  plaintextConfigKeys: ReadonlySet<string>;
  processEnv: Readonly<Record<string, string | undefined>>;
  envFile: { path: string; values: Readonly<Record<string, string>> };
}

/** `.env.<stack>` in the project folder. */
export function stackEnvFilePath(stack: string, dir: string): string {
  return join(dir, `.env.${stack}`);
}

/** Reads `.env.<stack>` without touching process.env; a missing file is simply empty. */
export function loadStackEnvFile(stack: string, dir = process.cwd()): SecretSources['envFile'] {
  const path = stackEnvFilePath(stack, dir);
  return { path, values: existsSync(path) ? parseDotenv(readFileSync(path)) : {} };
}

/** Every secret's value from the first source that has it, or a problem per missing or malformed one. */
export function resolveSecretValues(sources: SecretSources, stack: string): { values?: SecretValues; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const values: Partial<SecretValues> = {};
  for (const name of SECRET_NAMES) {
    const source = STACK_SECRETS[name];
    const fix = `${configSetCommand(source.configKey, source.example, { secret: true })}  # or ${source.envName}=... in .env.${stack}`;
    const fromConfig = nonEmpty(sources.config[name]);
    const value = fromConfig ?? nonEmpty(sources.processEnv[source.envName]) ?? nonEmpty(sources.envFile.values[source.envName]);
    if (fromConfig !== undefined && sources.plaintextConfigKeys.has(source.configKey)) {
      problems.push({
        path: source.configKey,
        problem: `is stored in plain text in Pulumi.${stack}.yaml`,
        fix: `${configSetCommand(source.configKey, source.example, { secret: true })}  # a new value: the old one is in your history`,
      });
    }
    if (value === undefined) {
      problems.push({ path: source.configKey, problem: `is not set (checked the stack config, $${source.envName} and .env.${stack})`, fix });
      continue;
    }
    const wrong = source.check(value);
    if (wrong) {
      problems.push({ path: source.configKey, problem: wrong, fix });
      continue;
    }
    values[name] = value;
  }
  return problems.length === 0 ? { values: values as SecretValues, problems } : { problems };
}

export function asPulumiSecrets(values: SecretValues): StackSecrets {
  return { postgresPassword: pulumi.secret(values.postgresPassword), hmacSecret: pulumi.secret(values.hmacSecret) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
