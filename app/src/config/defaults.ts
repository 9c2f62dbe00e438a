/**
 * Every built-in default, named so the CLI help and the docs print the same numbers
 * the loader uses. TOML keys and environment names are derived in schema.ts.
 */

import { availableParallelism } from 'node:os';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_DATA_DIR = './data';
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';
/**
 * Lines a client can cause at will (refused calls, failed logins, bad CSRF tokens), per kind
 * of line and interval: this many per peer address, this many from all peers together; the
 * rest is counted in one summary line per interval.
 */
export const DEFAULT_LOG_REFUSAL_LINES_PER_PEER = 10;
export const DEFAULT_LOG_REFUSAL_LINES = 100;
export const DEFAULT_LOG_REFUSAL_INTERVAL_MS = 60_000;
/** How long a service drains in-flight work after SIGTERM before it exits anyway. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

export const DEFAULT_SENSOR_API_HOST = '0.0.0.0';
export const DEFAULT_SENSOR_API_PORT = 50051;
/** Serves /healthz, /readyz and /metrics beside the gRPC port. */
export const DEFAULT_SENSOR_API_HTTP_PORT = 9090;
export const DEFAULT_SENSOR_API_MAX_CONNECTIONS = 1000;
/** Room for a NAT gateway's worth of sensors, yet a tenth of the connections at most. */
export const DEFAULT_SENSOR_API_MAX_CONNECTIONS_PER_ADDRESS = 100;
/** Time from TCP accept to the client's HTTP/2 preface. */
export const DEFAULT_SENSOR_API_HANDSHAKE_TIMEOUT_MS = 10_000;
/** A connection with no call in progress for this long is closed; the sensor reconnects on its next call. */
export const DEFAULT_SENSOR_API_IDLE_TIMEOUT_MS = 300_000;
/** The server pings every connection this often, to find peers that vanished without closing. */
export const DEFAULT_SENSOR_API_KEEPALIVE_TIME_MS = 120_000;
export const DEFAULT_SENSOR_API_KEEPALIVE_TIMEOUT_MS = 20_000;
export const DEFAULT_SENSOR_API_MAX_BATCH_SIZE = 1000;
export const DEFAULT_SENSOR_API_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** SyncRules tag limits: a real sensor sends a handful of short `key=value` tags. */
export const DEFAULT_SENSOR_API_SYNC_MAX_TAGS = 64;
export const DEFAULT_SENSOR_API_SYNC_MAX_TAG_BYTES = 256;
export const DEFAULT_SENSOR_API_SYNC_MAX_TOTAL_TAG_BYTES = 4096;
/** Memory for the rules served per tag set, remembered between syncs (least recently used go first). */
export const DEFAULT_SENSOR_API_SYNC_CACHE_MAX_BYTES = 8 * 1024 * 1024;
/** Most ingestion worker threads the default picks, however many CPUs there are. */
const MAX_DEFAULT_INGEST_WORKERS = 4;

/**
 * Threads that decode, check and evaluate ReportEvents batches beside the main thread: one
 * CPU is left to the main thread (gRPC and the database), up to four to the workers. With a
 * single CPU a worker would only take turns with the main thread, so there is none.
 */
export function defaultIngestWorkers(cpus: number = availableParallelism()): number {
  return Math.max(0, Math.min(MAX_DEFAULT_INGEST_WORKERS, cpus - 1));
}

export const DEFAULT_WEB_UI_HOST = '0.0.0.0';
export const DEFAULT_WEB_UI_PORT = 8080;
/** Sliding expiry: each request pushes the session's end this far into the future. */
export const DEFAULT_WEB_UI_SESSION_TTL_MINUTES = 480;
/** /healthz, /readyz and /metrics for the web UI; only this port serves /metrics. */
export const DEFAULT_WEB_UI_METRICS_HOST = '127.0.0.1';
export const DEFAULT_WEB_UI_METRICS_PORT = 9091;
/**
 * Whether X-Forwarded-Proto and X-Forwarded-For from one reverse proxy in front decide the
 * scheme and the client address. Off: a client talking to the port directly could forge them.
 */
export const DEFAULT_WEB_UI_TRUST_PROXY = false;
/** Largest form post; "try a rule" allows its 1 MiB payload on top (see TRY_BODY_LIMIT_BYTES). */
export const DEFAULT_WEB_UI_MAX_BODY_BYTES = 256 * 1024;
/**
 * After SIGTERM the web UI keeps accepting and answering this long while /readyz reports 503,
 * so a proxy or load balancer stops sending before the port closes.
 */
export const DEFAULT_WEB_UI_SHUTDOWN_DELAY_MS = 3_000;
/** Failed logins before throttling, per (client address, username), per address and per username. */
export const DEFAULT_WEB_UI_LOGIN_FAILURES_PER_ADDRESS_ACCOUNT = 5;
export const DEFAULT_WEB_UI_LOGIN_FAILURES_PER_ADDRESS = 20;
export const DEFAULT_WEB_UI_LOGIN_FAILURES_PER_ACCOUNT = 100;
/** The longest wait a throttled login gets; a record is forgotten this long after its last failure. */
export const DEFAULT_WEB_UI_LOGIN_BACKOFF_MAX_MS = 15 * 60_000;

/** The SQLite file created in the data directory when no database URL is configured. */
export const DEFAULT_DATABASE_FILE_NAME = 'trapperkeeper.db';
export const DEFAULT_DATABASE_MAX_CONNECTIONS = 16;
export const DEFAULT_DATABASE_MIN_IDLE = 4;
export const DEFAULT_DATABASE_IDLE_TIMEOUT_MS = 300_000;
export const DEFAULT_DATABASE_MAX_LIFETIME_MS = 1_800_000;
export const DEFAULT_DATABASE_CONNECTION_TIMEOUT_MS = 5_000;

/** `sqlite://<data_dir>/trapperkeeper.db`; `dataDir` is absolute by the time this is called. */
export function defaultDatabaseUrl(dataDir: string): string {
  const dir = dataDir.endsWith('/') ? dataDir.slice(0, -1) : dataDir;
  return `sqlite://${dir}/${DEFAULT_DATABASE_FILE_NAME}`;
}

export const DATABASE_URL_SCHEMES = ['sqlite', 'postgres', 'postgresql', 'mysql'] as const;

export const CONFIG_FILE_NAME = 'trapperkeeper.toml';
/** Read in this order, later files overriding earlier ones, unless --config names one file. */
export const DEFAULT_CONFIG_LOCATIONS = [
  '/etc/trapperkeeper/trapperkeeper.toml',
  '~/.config/trapperkeeper/trapperkeeper.toml',
  './trapperkeeper.toml',
] as const;

/** Environment variables that are not settings of a section. */
export const CONFIG_FILE_ENV = 'TK_CONFIG_FILE';
export const HMAC_SECRET_ENV = 'TK_HMAC_SECRET';
export const DATABASE_PASSWORD_ENV = 'TK_DATABASE_PASSWORD';
