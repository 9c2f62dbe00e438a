import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { HmacSecret } from '../src/auth/hmac-secrets.js';
import { DEFAULT_SENSOR_API_MAX_BATCH_SIZE, DEFAULT_SENSOR_API_MAX_MESSAGE_BYTES } from '../src/config/defaults.js';
import { createApiKey } from '../src/db/api-keys.js';
import { currentSchemaVersion } from '../src/db/migrator.js';
import { DEFAULT_TENANT_ID, type Database } from '../src/db/types.js';
import { startSensorApi } from '../src/grpc/server.js';
import { startOpsServer } from '../src/http/ops-server.js';
import { createLogger, type Logger } from '../src/log/logger.js';
import { createMetrics, type Metrics } from '../src/metrics/registry.js';
import { BUILD_INFO } from '../src/version.js';
import type { CleanupStack } from './cleanup.js';

/** Server log lines at warn and above: a healthy run has none. */
export class WarningLog extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    if (this.lines.length < 20) this.lines.push(chunk.toString('utf8').trim());
    done();
  }
}

export interface BenchServices {
  grpcPort: number;
  opsPort: number;
  /** A live key of the default tenant. */
  apiKey: string;
  apiKeyId: string;
  /** The secret the key was issued under, and the server's logger (for stage-by-stage timing). */
  secret: HmacSecret;
  logger: Logger;
  metrics: Metrics;
  warnings: WarningLog;
  stop(): Promise<void>;
}

/**
 * The sensor API and its ops server, as `trapperkeeper sensor-api` starts them (default batch
 * and message limits, the given ingestion workers), on free 127.0.0.1 ports, logging only warnings.
 */
export async function startBenchServices(db: Database, ingestWorkers: number, cleanup: CleanupStack): Promise<BenchServices> {
  const secret: HmacSecret = { id: randomBytes(16).toString('hex'), secret: randomBytes(32) };
  const { key, record } = await createApiKey(db, DEFAULT_TENANT_ID, 'benchmark sensor', secret);
  const warnings = new WarningLog();
  const logger = createLogger({ level: 'warn', pretty: false }, warnings);
  const metrics = createMetrics(BUILD_INFO, () => db.poolStats());
  const sensorApi = await startSensorApi({
    host: '127.0.0.1',
    port: 0,
    maxBatchSize: DEFAULT_SENSOR_API_MAX_BATCH_SIZE,
    ingestWorkers,
    maxMessageBytes: DEFAULT_SENSOR_API_MAX_MESSAGE_BYTES,
    db,
    logger,
    metrics,
    hmacSecrets: [secret],
  });
  const stopSensorApi = cleanup.add('stop the sensor API', () => sensorApi.drain(2000));
  const ops = await startOpsServer({
    host: '127.0.0.1',
    port: 0,
    deps: { db, metrics, build: BUILD_INFO, schemaVersion: () => currentSchemaVersion(db), draining: () => false },
    logger,
    service: 'sensor-api',
  });
  const stopOps = cleanup.add('stop the ops server', () => ops.close(2000));
  return {
    grpcPort: sensorApi.port,
    opsPort: ops.port,
    apiKey: key,
    apiKeyId: record.id,
    secret,
    logger,
    metrics,
    warnings,
    stop: async () => {
      await stopOps();
      await stopSensorApi();
    },
  };
}
