import type { AppConfig } from './app-config.js';
import { databaseUrlHasPassword, databaseUrlScheme, withDatabasePassword } from './database-url.js';
import {
  CONFIG_FILE_ENV,
  DATABASE_PASSWORD_ENV,
  DEFAULT_DATA_DIR,
  DEFAULT_DATABASE_CONNECTION_TIMEOUT_MS,
  DEFAULT_DATABASE_IDLE_TIMEOUT_MS,
  DEFAULT_DATABASE_MAX_CONNECTIONS,
  DEFAULT_DATABASE_MAX_LIFETIME_MS,
  DEFAULT_DATABASE_MIN_IDLE,
  DEFAULT_LOG_LEVEL,
  DEFAULT_LOG_REFUSAL_INTERVAL_MS,
  DEFAULT_LOG_REFUSAL_LINES,
  DEFAULT_LOG_REFUSAL_LINES_PER_PEER,
  DEFAULT_SENSOR_API_HOST,
  DEFAULT_SENSOR_API_HTTP_PORT,
  DEFAULT_SENSOR_API_MAX_BATCH_SIZE,
  DEFAULT_SENSOR_API_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_SENSOR_API_IDLE_TIMEOUT_MS,
  DEFAULT_SENSOR_API_KEEPALIVE_TIME_MS,
  DEFAULT_SENSOR_API_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_SENSOR_API_MAX_CONNECTIONS,
  DEFAULT_SENSOR_API_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_SENSOR_API_MAX_MESSAGE_BYTES,
  DEFAULT_SENSOR_API_SYNC_CACHE_MAX_BYTES,
  DEFAULT_SENSOR_API_SYNC_MAX_TAG_BYTES,
  DEFAULT_SENSOR_API_SYNC_MAX_TAGS,
  DEFAULT_SENSOR_API_SYNC_MAX_TOTAL_TAG_BYTES,
  DEFAULT_SENSOR_API_PORT,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_WEB_UI_HOST,
  DEFAULT_WEB_UI_LOGIN_BACKOFF_MAX_MS,
  DEFAULT_WEB_UI_LOGIN_FAILURES_PER_ACCOUNT,
  DEFAULT_WEB_UI_LOGIN_FAILURES_PER_ADDRESS,
  DEFAULT_WEB_UI_LOGIN_FAILURES_PER_ADDRESS_ACCOUNT,
  DEFAULT_WEB_UI_MAX_BODY_BYTES,
  DEFAULT_WEB_UI_METRICS_HOST,
  DEFAULT_WEB_UI_METRICS_PORT,
  DEFAULT_WEB_UI_PORT,
  DEFAULT_WEB_UI_SESSION_TTL_MINUTES,
  DEFAULT_WEB_UI_SHUTDOWN_DELAY_MS,
  DEFAULT_WEB_UI_TRUST_PROXY,
  defaultDatabaseUrl,
  defaultIngestWorkers,
} from './defaults.js';
import { nonEmptyEnv, readEnvLayer } from './env-source.js';
import { readFlagLayer, type ConfigFlags } from './flag-source.js';
import { readHmacSecrets } from './hmac-secrets-env.js';
import { mergeLayers, type Layer } from './layer.js';
import { ConfigError, DEFAULT_SOURCE, envSource, flagSource, type ConfigProblem } from './problems.js';
import { configSchema, issueFix, SETTINGS, SETTINGS_BY_ID, type ConfigSettings } from './schema.js';
import { configFileLocations, readConfigFile, resolvePath } from './sources.js';

export type { AppConfig } from './app-config.js';
export type { ConfigFlags } from './flag-source.js';

export interface LoadConfigInput {
  flags?: ConfigFlags;
  /** The process environment, passed in so loading stays testable; empty values count as unset. */
  env: Record<string, string | undefined>;
  cwd: string;
  homeDir: string;
  /** Where `trapperkeeper/trapperkeeper.toml` is looked up system-wide; `/etc` unless a test says otherwise. */
  etcDir?: string;
}

/** Every default except database.url, which follows data_dir. */
const DEFAULT_VALUES: Record<string, unknown> = {
  data_dir: DEFAULT_DATA_DIR,
  log_level: DEFAULT_LOG_LEVEL,
  log_refusal_lines_per_peer: DEFAULT_LOG_REFUSAL_LINES_PER_PEER,
  log_refusal_lines: DEFAULT_LOG_REFUSAL_LINES,
  log_refusal_interval_ms: DEFAULT_LOG_REFUSAL_INTERVAL_MS,
  shutdown_timeout_ms: DEFAULT_SHUTDOWN_TIMEOUT_MS,
  'sensor_api.host': DEFAULT_SENSOR_API_HOST,
  'sensor_api.port': DEFAULT_SENSOR_API_PORT,
  'sensor_api.http_port': DEFAULT_SENSOR_API_HTTP_PORT,
  'sensor_api.max_connections': DEFAULT_SENSOR_API_MAX_CONNECTIONS,
  'sensor_api.max_connections_per_address': DEFAULT_SENSOR_API_MAX_CONNECTIONS_PER_ADDRESS,
  'sensor_api.handshake_timeout_ms': DEFAULT_SENSOR_API_HANDSHAKE_TIMEOUT_MS,
  'sensor_api.idle_timeout_ms': DEFAULT_SENSOR_API_IDLE_TIMEOUT_MS,
  'sensor_api.keepalive_time_ms': DEFAULT_SENSOR_API_KEEPALIVE_TIME_MS,
  'sensor_api.keepalive_timeout_ms': DEFAULT_SENSOR_API_KEEPALIVE_TIMEOUT_MS,
  'sensor_api.max_batch_size': DEFAULT_SENSOR_API_MAX_BATCH_SIZE,
  'sensor_api.max_message_bytes': DEFAULT_SENSOR_API_MAX_MESSAGE_BYTES,
  'sensor_api.ingest_workers': defaultIngestWorkers(),
  'sensor_api.sync_max_tags': DEFAULT_SENSOR_API_SYNC_MAX_TAGS,
  'sensor_api.sync_max_tag_bytes': DEFAULT_SENSOR_API_SYNC_MAX_TAG_BYTES,
  'sensor_api.sync_max_total_tag_bytes': DEFAULT_SENSOR_API_SYNC_MAX_TOTAL_TAG_BYTES,
  'sensor_api.sync_cache_max_bytes': DEFAULT_SENSOR_API_SYNC_CACHE_MAX_BYTES,
  'web_ui.host': DEFAULT_WEB_UI_HOST,
  'web_ui.port': DEFAULT_WEB_UI_PORT,
  'web_ui.session_ttl_minutes': DEFAULT_WEB_UI_SESSION_TTL_MINUTES,
  'web_ui.trust_proxy': DEFAULT_WEB_UI_TRUST_PROXY,
  'web_ui.metrics_host': DEFAULT_WEB_UI_METRICS_HOST,
  'web_ui.metrics_port': DEFAULT_WEB_UI_METRICS_PORT,
  'web_ui.max_body_bytes': DEFAULT_WEB_UI_MAX_BODY_BYTES,
  'web_ui.shutdown_delay_ms': DEFAULT_WEB_UI_SHUTDOWN_DELAY_MS,
  'web_ui.login_failures_per_address_account': DEFAULT_WEB_UI_LOGIN_FAILURES_PER_ADDRESS_ACCOUNT,
  'web_ui.login_failures_per_address': DEFAULT_WEB_UI_LOGIN_FAILURES_PER_ADDRESS,
  'web_ui.login_failures_per_account': DEFAULT_WEB_UI_LOGIN_FAILURES_PER_ACCOUNT,
  'web_ui.login_backoff_max_ms': DEFAULT_WEB_UI_LOGIN_BACKOFF_MAX_MS,
  'database.max_connections': DEFAULT_DATABASE_MAX_CONNECTIONS,
  'database.min_idle': DEFAULT_DATABASE_MIN_IDLE,
  'database.idle_timeout_ms': DEFAULT_DATABASE_IDLE_TIMEOUT_MS,
  'database.max_lifetime_ms': DEFAULT_DATABASE_MAX_LIFETIME_MS,
  'database.connection_timeout_ms': DEFAULT_DATABASE_CONNECTION_TIMEOUT_MS,
};

/**
 * Builds the configuration from, lowest precedence first: defaults, TOML files (or only
 * the --config file), TK_* environment variables, command-line flags. Reads files and
 * nothing else. Throws one ConfigError listing every problem found in every source.
 */
export function loadConfig(input: LoadConfigInput): AppConfig {
  const env = nonEmptyEnv(input.env);
  const flags = input.flags ?? {};
  const problems: ConfigProblem[] = [];

  const explicit =
    flags.global?.config !== undefined
      ? { path: flags.global.config, source: flagSource('--config') }
      : env[CONFIG_FILE_ENV] !== undefined
        ? { path: env[CONFIG_FILE_ENV], source: envSource(CONFIG_FILE_ENV) }
        : undefined;
  const locations = configFileLocations({
    ...(explicit ? { explicitPath: explicit.path } : {}),
    cwd: input.cwd,
    homeDir: input.homeDir,
    ...(input.etcDir !== undefined ? { etcDir: input.etcDir } : {}),
  });
  const fileLayers: Layer[] = [];
  const sources: string[] = [];
  for (const location of locations) {
    const reading = readConfigFile(location, explicit?.source);
    problems.push(...reading.problems);
    fileLayers.push(reading.layer);
    if (reading.read) sources.push(location.path);
  }

  const envReading = readEnvLayer(env);
  const flagReading = readFlagLayer(flags);
  const hmac = readHmacSecrets(env);
  problems.push(...envReading.problems, ...flagReading.problems, ...hmac.problems);

  const defaults: Layer = new Map(
    Object.entries(DEFAULT_VALUES).map(([id, value]) => [id, { value, source: DEFAULT_SOURCE }]),
  );
  const merged = mergeLayers([defaults, ...fileLayers, envReading.layer, flagReading.layer]);

  const dataDir = merged.get('data_dir') ?? { value: DEFAULT_DATA_DIR, source: DEFAULT_SOURCE };
  merged.set('data_dir', { ...dataDir, value: resolvePath(String(dataDir.value), input.cwd, input.homeDir) });
  if (!merged.has('database.url')) {
    merged.set('database.url', { value: defaultDatabaseUrl(String(merged.get('data_dir')?.value)), source: DEFAULT_SOURCE });
  }
  const password = env[DATABASE_PASSWORD_ENV];
  if (password !== undefined) {
    const problem = applyDatabasePassword(merged, password);
    if (problem) problems.push(problem);
  }

  const settings = configSchema.safeParse(toNested(merged));
  if (!settings.success) {
    for (const issue of settings.error.issues) {
      const id = issue.path.join('.');
      problems.push({
        key: id,
        source: merged.get(id)?.source ?? DEFAULT_SOURCE,
        problem: issue.message,
        fix: issueFix(issue) ?? `use ${SETTINGS_BY_ID.get(id)?.expected ?? 'a valid value'}`,
      });
    }
  }

  if (problems.length > 0 || !settings.success) throw new ConfigError(problems);
  return toAppConfig(settings.data, hmac.secrets, sources, merged);
}

function applyDatabasePassword(merged: Layer, password: string): ConfigProblem | undefined {
  const url = merged.get('database.url');
  if (!url) return undefined;
  const text = String(url.value);
  const scheme = databaseUrlScheme(text);
  if (scheme === undefined) return undefined; // the URL itself is reported as invalid
  const base = { key: 'database.password', source: envSource(DATABASE_PASSWORD_ENV) };
  if (scheme === 'sqlite') {
    return { ...base, problem: `is set, but database.url (${url.source}) is a SQLite file, which has no password`, fix: `unset ${DATABASE_PASSWORD_ENV}` };
  }
  if (databaseUrlHasPassword(text)) {
    return {
      ...base,
      problem: `is set, but database.url (${url.source}) already contains a password`,
      fix: `keep the password in one place: remove it from the URL or unset ${DATABASE_PASSWORD_ENV}`,
    };
  }
  merged.set('database.url', { value: withDatabasePassword(text, password), source: `${url.source} + ${base.source}` });
  return undefined;
}

function toNested(merged: Layer): Record<string, unknown> {
  const nested: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const value = merged.get(setting.id)?.value;
    if (setting.section === undefined) {
      nested[setting.key] = value;
    } else {
      const section = (nested[setting.section] ??= {}) as Record<string, unknown>;
      section[setting.key] = value;
    }
  }
  return nested;
}

function toAppConfig(
  s: ConfigSettings,
  hmacSecrets: AppConfig['hmacSecrets'],
  sources: string[],
  merged: Layer,
): AppConfig {
  return {
    dataDir: s.data_dir,
    logLevel: s.log_level,
    refusalLog: {
      perPeer: s.log_refusal_lines_per_peer,
      perKind: s.log_refusal_lines,
      intervalMs: s.log_refusal_interval_ms,
    },
    shutdownTimeoutMs: s.shutdown_timeout_ms,
    sensorApi: {
      host: s.sensor_api.host,
      port: s.sensor_api.port,
      httpPort: s.sensor_api.http_port,
      maxConnections: s.sensor_api.max_connections,
      maxConnectionsPerAddress: s.sensor_api.max_connections_per_address,
      handshakeTimeoutMs: s.sensor_api.handshake_timeout_ms,
      idleTimeoutMs: s.sensor_api.idle_timeout_ms,
      keepaliveTimeMs: s.sensor_api.keepalive_time_ms,
      keepaliveTimeoutMs: s.sensor_api.keepalive_timeout_ms,
      maxBatchSize: s.sensor_api.max_batch_size,
      maxMessageBytes: s.sensor_api.max_message_bytes,
      ingestWorkers: s.sensor_api.ingest_workers,
      syncTagLimits: {
        maxTags: s.sensor_api.sync_max_tags,
        maxTagBytes: s.sensor_api.sync_max_tag_bytes,
        maxTotalTagBytes: s.sensor_api.sync_max_total_tag_bytes,
      },
      syncCacheMaxBytes: s.sensor_api.sync_cache_max_bytes,
    },
    webUi: {
      host: s.web_ui.host,
      port: s.web_ui.port,
      metricsHost: s.web_ui.metrics_host,
      metricsPort: s.web_ui.metrics_port,
      sessionTtlMinutes: s.web_ui.session_ttl_minutes,
      trustProxy: s.web_ui.trust_proxy,
      maxBodyBytes: s.web_ui.max_body_bytes,
      shutdownDelayMs: s.web_ui.shutdown_delay_ms,
      loginThrottle: {
        failuresPerAddressAccount: s.web_ui.login_failures_per_address_account,
        failuresPerAddress: s.web_ui.login_failures_per_address,
        failuresPerAccount: s.web_ui.login_failures_per_account,
        backoffMaxMs: s.web_ui.login_backoff_max_ms,
      },
    },
    database: {
      url: s.database.url,
      maxConnections: s.database.max_connections,
      minIdle: s.database.min_idle,
      idleTimeoutMs: s.database.idle_timeout_ms,
      maxLifetimeMs: s.database.max_lifetime_ms,
      connectionTimeoutMs: s.database.connection_timeout_ms,
      ...(s.database.ca !== undefined ? { ca: s.database.ca } : {}),
    },
    hmacSecrets,
    sources,
    origins: Object.fromEntries(SETTINGS.map((setting) => [setting.id, merged.get(setting.id)?.source ?? DEFAULT_SOURCE])),
  };
}
