import { z } from 'zod';
import { databaseUrlProblem, databaseUrlScheme, databaseUrlSslMode } from './database-url.js';
import { pemCertificatesProblem } from './pem-certificates.js';
import { LOG_LEVELS } from './defaults.js';

/*
 * The one description of every setting, in TOML's snake_case shape. Each leaf carries,
 * as its description, the phrase that tells a person what to write instead of a bad
 * value. Environment names, env coercion and the list of known keys are derived from it.
 */

/** setTimeout's ceiling; a longer timeout would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

const milliseconds = (min: number) =>
  z.int().min(min).max(MAX_TIMER_MS).describe(`a whole number of milliseconds from ${min} to ${MAX_TIMER_MS}`);
const count = (min: number, max: number, what: string) =>
  z.int().min(min).max(max).describe(`a whole number of ${what} from ${min} to ${max}`);
const port = z.int().min(1).max(65535).describe('a port number from 1 to 65535');
const host = z
  .string()
  .min(1)
  .refine((value) => !/\s/.test(value), 'contains whitespace')
  .describe('a host name or IP address to listen on, like 0.0.0.0 or 127.0.0.1');

export const sensorApiSchema = z.strictObject({
  host,
  port,
  http_port: port,
  max_connections: count(1, 1_000_000, 'connections'),
  max_connections_per_address: count(1, 1_000_000, 'connections'),
  handshake_timeout_ms: milliseconds(100),
  idle_timeout_ms: milliseconds(1000),
  keepalive_time_ms: milliseconds(1000),
  keepalive_timeout_ms: milliseconds(1000),
  max_batch_size: count(1, 1_000_000, 'events'),
  max_message_bytes: count(1024, 2_147_483_647, 'bytes'),
  ingest_workers: count(0, 64, 'worker threads'),
  sync_max_tags: count(1, 100_000, 'tags'),
  sync_max_tag_bytes: count(1, 1_048_576, 'bytes'),
  sync_max_total_tag_bytes: count(1, 16_777_216, 'bytes'),
  sync_cache_max_bytes: count(65_536, 1_073_741_824, 'bytes'),
});

export const webUiSchema = z.strictObject({
  host,
  port,
  metrics_host: host,
  metrics_port: port,
  session_ttl_minutes: count(1, 525_600, 'minutes'),
  trust_proxy: z.boolean().describe('true or false'),
  max_body_bytes: count(1024, 64 * 1024 * 1024, 'bytes'),
  shutdown_delay_ms: milliseconds(0),
  login_failures_per_address_account: count(1, 1_000_000, 'failed logins'),
  login_failures_per_address: count(1, 1_000_000, 'failed logins'),
  login_failures_per_account: count(1, 1_000_000, 'failed logins'),
  login_backoff_max_ms: milliseconds(1000),
});

export const databaseSchema = z.strictObject({
  url: z
    .string()
    .superRefine((value, ctx) => {
      const problem = databaseUrlProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .describe('a URL like sqlite:///var/lib/trapperkeeper/trapperkeeper.db or postgres://user@host:5432/trapperkeeper'),
  max_connections: count(1, 10_000, 'connections'),
  min_idle: count(0, 10_000, 'connections'),
  idle_timeout_ms: milliseconds(0),
  max_lifetime_ms: milliseconds(0),
  connection_timeout_ms: milliseconds(1),
  ca: z
    .string()
    .superRefine((value, ctx) => {
      const problem = pemCertificatesProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional()
    .describe('the PEM certificates (-----BEGIN CERTIFICATE----- ...) of the CAs the PostgreSQL server\'s certificate must chain to'),
});

export const configSchema = z
  .strictObject({
    data_dir: z.string().min(1).describe('a directory path'),
    log_level: z.enum(LOG_LEVELS).describe(`one of ${LOG_LEVELS.join(', ')}`),
    log_refusal_lines_per_peer: count(1, 1_000_000, 'lines'),
    log_refusal_lines: count(1, 1_000_000, 'lines'),
    log_refusal_interval_ms: milliseconds(1000),
    shutdown_timeout_ms: milliseconds(0),
    sensor_api: sensorApiSchema,
    web_ui: webUiSchema,
    database: databaseSchema,
  })
  .superRefine((config, ctx) => {
    if (config.database.min_idle > config.database.max_connections) {
      ctx.addIssue({
        code: 'custom',
        path: ['database', 'min_idle'],
        message: `${config.database.min_idle} idle connections exceed database.max_connections (${config.database.max_connections})`,
        params: { fix: 'lower database.min_idle or raise database.max_connections' },
      });
    }
    if (config.database.ca !== undefined) {
      // A CA only means something if the server's certificate is verified against it, name included.
      const scheme = databaseUrlScheme(config.database.url);
      const sslmode = databaseUrlSslMode(config.database.url);
      if (scheme !== 'postgres' && scheme !== 'postgresql') {
        ctx.addIssue({
          code: 'custom',
          path: ['database', 'ca'],
          message: `is set, but database.url is not a PostgreSQL URL (${scheme ?? 'no scheme'}); only PostgreSQL connections verify against it`,
          params: { fix: 'unset database.ca (TK_DATABASE_CA)' },
        });
      } else if (sslmode !== undefined && sslmode !== 'verify-full') {
        ctx.addIssue({
          code: 'custom',
          path: ['database', 'ca'],
          message: `is set, but database.url has sslmode=${sslmode.slice(0, 20)}, which does not verify the server's certificate and name against it`,
          params: { fix: 'use sslmode=verify-full in database.url (or leave sslmode out), or unset database.ca' },
        });
      }
    }
    if (config.sensor_api.port === config.sensor_api.http_port) {
      ctx.addIssue({
        code: 'custom',
        path: ['sensor_api', 'http_port'],
        message: `is the same port as sensor_api.port (${config.sensor_api.port}); gRPC and HTTP cannot share it`,
        params: { fix: 'give sensor_api.http_port and sensor_api.port different values' },
      });
    }
    if (config.web_ui.port === config.web_ui.metrics_port) {
      ctx.addIssue({
        code: 'custom',
        path: ['web_ui', 'metrics_port'],
        message: `is the same port as web_ui.port (${config.web_ui.port}); the public pages and the metrics cannot share it`,
        params: { fix: 'give web_ui.metrics_port and web_ui.port different values' },
      });
    }
  });

export type ConfigSettings = z.infer<typeof configSchema>;

export type SettingKind = 'integer' | 'boolean' | 'string';

export interface Setting {
  /** Dotted TOML path: `log_level`, `sensor_api.port`. */
  id: string;
  section: string | undefined;
  key: string;
  env: string;
  kind: SettingKind;
  schema: z.ZodType;
  /** What a valid value looks like, e.g. "a port number from 1 to 65535". */
  expected: string;
}

function settingOf(section: string | undefined, key: string, schema: z.ZodType): Setting {
  const kind: SettingKind = schema.type === 'number' ? 'integer' : schema.type === 'boolean' ? 'boolean' : 'string';
  return {
    id: section ? `${section}.${key}` : key,
    section,
    key,
    env: `TK_${section ? `${section}_` : ''}${key}`.toUpperCase(),
    kind,
    schema,
    expected: schema.description ?? 'a valid value',
  };
}

export const SETTINGS: readonly Setting[] = Object.entries(configSchema.shape).flatMap(([key, schema]) =>
  schema instanceof z.ZodObject
    ? Object.entries(schema.shape as Record<string, z.ZodType>).map(([leaf, leafSchema]) => settingOf(key, leaf, leafSchema))
    : [settingOf(undefined, key, schema)],
);

export const SETTINGS_BY_ID: ReadonlyMap<string, Setting> = new Map(SETTINGS.map((s) => [s.id, s]));
export const SETTINGS_BY_ENV: ReadonlyMap<string, Setting> = new Map(SETTINGS.map((s) => [s.env, s]));
export const SECTIONS: readonly string[] = [...new Set(SETTINGS.flatMap((s) => (s.section ? [s.section] : [])))];

export type SettingCheck = { ok: true; value: unknown } | { ok: false; problem: string; fix: string };

/** Validates one value against its setting, with a message that never echoes text values. */
export function checkSetting(setting: Setting, value: unknown): SettingCheck {
  const result = setting.schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  return { ok: false, problem: issue ? describeIssue(issue, value) : 'is invalid', fix: `use ${setting.expected}` };
}

/** The fix a cross-field issue carries in `params.fix`, if any. */
export function issueFix(issue: z.core.$ZodIssue): string | undefined {
  const params = 'params' in issue ? (issue.params as { fix?: unknown } | undefined) : undefined;
  return typeof params?.fix === 'string' ? params.fix : undefined;
}

function describeIssue(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type': {
      const wantsNumber = issue.expected === 'int' || issue.expected === 'number';
      if (wantsNumber && typeof value === 'number') {
        return Number.isFinite(value) ? `${value} is not a whole number` : `${value} is not a finite number`;
      }
      const wanted = wantsNumber ? 'a whole number' : issue.expected === 'string' ? 'text' : `a ${issue.expected}`;
      return `expected ${wanted}, found ${typeName(value)}`;
    }
    case 'too_small':
      return typeof value === 'string' ? 'is empty' : `${String(value)} is below the minimum of ${String(issue.minimum)}`;
    case 'too_big':
      return `${String(value)} is above the maximum of ${String(issue.maximum)}`;
    case 'invalid_value':
      return `"${String(value).slice(0, 40)}" is not a known value`;
    default:
      return issue.message;
  }
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a date';
  switch (typeof value) {
    case 'string':
      return 'text';
    case 'number':
      return Number.isInteger(value) ? 'a whole number' : 'a decimal number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'a table';
    default:
      return typeof value;
  }
}
