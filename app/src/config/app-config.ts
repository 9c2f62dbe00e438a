import type { HmacSecret } from '../auth/hmac-secrets.js';
import type { PoolOptions } from '../db/types.js';
import type { RefusalLogLimits } from '../log/refusal-log.js';
import type { LogLevel } from './defaults.js';

/** When failed logins are throttled; see web/login-throttle.ts. */
export interface LoginThrottlePolicy {
  failuresPerAddressAccount: number;
  failuresPerAddress: number;
  failuresPerAccount: number;
  backoffMaxMs: number;
}

/** The fully resolved configuration every command receives. */
export interface AppConfig {
  /** Absolute. */
  dataDir: string;
  logLevel: LogLevel;
  /** Limits on lines clients can cause at will (see log/refusal-log.ts). */
  refusalLog: RefusalLogLimits;
  shutdownTimeoutMs: number;
  sensorApi: {
    host: string;
    port: number;
    httpPort: number;
    maxConnections: number;
    maxConnectionsPerAddress: number;
    handshakeTimeoutMs: number;
    idleTimeoutMs: number;
    keepaliveTimeMs: number;
    keepaliveTimeoutMs: number;
    maxBatchSize: number;
    maxMessageBytes: number;
    /** Threads that prepare ReportEvents batches; 0 prepares them on the main thread. */
    ingestWorkers: number;
    /** Tags a SyncRules call may send (count, bytes per tag, bytes in all). */
    syncTagLimits: { maxTags: number; maxTagBytes: number; maxTotalTagBytes: number };
    /** Memory bound of the rules served per tag set, remembered between syncs. */
    syncCacheMaxBytes: number;
  };
  webUi: {
    host: string;
    port: number;
    /** Where /metrics (with /healthz and /readyz) is served; never on the public port. */
    metricsHost: string;
    metricsPort: number;
    sessionTtlMinutes: number;
    trustProxy: boolean;
    maxBodyBytes: number;
    /** Accepting and answering after SIGTERM, with /readyz 503, before the port closes. */
    shutdownDelayMs: number;
    loginThrottle: LoginThrottlePolicy;
  };
  /** `url` may hold a password: print it only through describeConfig. */
  /** `ca`: PEM certificates the PostgreSQL server's certificate must chain to (verify-full); unset: the URL's sslmode alone. */
  database: { url: string; ca?: string } & PoolOptions;
  /** Primary (TK_HMAC_SECRET) first, then TK_HMAC_SECRET_1, _2, ... in number order. May be empty. */
  hmacSecrets: HmacSecret[];
  /** The configuration files that were read, in the order they were applied. */
  sources: string[];
  /** Where each setting's value came from, by dotted TOML key: `default`, `file <path>`, `env TK_X`, `flag --x`. */
  origins: Record<string, string>;
}
