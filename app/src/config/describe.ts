import type { AppConfig } from './app-config.js';
import { redactDatabaseUrl } from '../db/connect.js';
import { pemCertificateCount } from './pem-certificates.js';

/**
 * What a startup log line or `config show` prints: the database password masked, HMAC
 * secrets by id only. Field names avoid the logger's redaction list (`hmacSecrets`,
 * `databaseUrl`, ...), which would otherwise blank out the safe versions too.
 */
export interface ConfigSummary {
  dataDir: string;
  logLevel: string;
  refusalLog: AppConfig['refusalLog'];
  shutdownTimeoutMs: number;
  sensorApi: AppConfig['sensorApi'];
  webUi: AppConfig['webUi'];
  database: Omit<AppConfig['database'], 'url' | 'ca'> & { location: string; ca?: string };
  hmacSecretIds: string[];
  configFiles: string[];
  origins: Record<string, string>;
}

export function describeConfig(config: AppConfig): ConfigSummary {
  const { url, ca, ...pool } = config.database;
  return {
    dataDir: config.dataDir,
    logLevel: config.logLevel,
    refusalLog: { ...config.refusalLog },
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    sensorApi: { ...config.sensorApi },
    webUi: { ...config.webUi },
    database: { location: redactDatabaseUrl(url), ...pool, ...(ca !== undefined ? { ca: `${pemCertificateCount(ca)} PEM certificates` } : {}) },
    hmacSecretIds: config.hmacSecrets.map((secret) => secret.id),
    configFiles: [...config.sources],
    origins: { ...config.origins },
  };
}
