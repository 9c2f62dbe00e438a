import { Writable } from 'node:stream';
import { createApiKey } from '../../src/db/api-keys.js';
import { DEFAULT_TENANT_ID, type Database } from '../../src/db/types.js';
import { startSensorApi, type SensorApiDeps, type SensorApiServer } from '../../src/grpc/server.js';
import { createLogger } from '../../src/log/logger.js';
import { createMetrics, type Metrics } from '../../src/metrics/registry.js';
import { BUILD_INFO } from '../../src/version.js';
import { connectSensorClient, type SensorClient } from '../support/sensor-client.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import type { Dialect } from '../../src/db/types.js';
import { SECRET_A, SECRET_B } from './fixtures.js';

export const TEST_MAX_BATCH_SIZE = 5;
export const TEST_MAX_MESSAGE_BYTES = 2 * 1024 * 1024;

/** Log lines written by the server under test, for asserting on what it logs. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.lines.push(chunk.toString('utf8'));
    done();
  }
  text(): string {
    return this.lines.join('');
  }
}

export interface RunningSensorApi {
  server: SensorApiServer;
  client: SensorClient;
  metrics: Metrics;
  logs: LogCapture;
  /** Stops the client and the server (not the database). */
  stop(): Promise<void>;
}

/** Starts the real server on a free 127.0.0.1 port, with a real client connected to it. */
export async function runSensorApi(db: Database, overrides: Partial<SensorApiDeps> = {}): Promise<RunningSensorApi> {
  const logs = new LogCapture();
  const metrics = createMetrics(BUILD_INFO, () => undefined);
  const server = await startSensorApi({
    host: '127.0.0.1',
    port: 0,
    maxBatchSize: TEST_MAX_BATCH_SIZE,
    // A worker, as the server runs with more than one CPU; tests of the main-thread path pass 0.
    ingestWorkers: 1,
    maxMessageBytes: TEST_MAX_MESSAGE_BYTES,
    db,
    logger: createLogger({ level: 'debug', pretty: false }, logs),
    metrics,
    hmacSecrets: [SECRET_A, SECRET_B],
    ...overrides,
  });
  const client = connectSensorClient(server.port);
  return {
    server,
    client,
    metrics,
    logs,
    stop: async () => {
      client.close();
      await server.drain(1000);
    },
  };
}

export interface SensorApiFixture extends RunningSensorApi {
  database: TestDatabase;
  db: Database;
  /** A live key of the default tenant, issued under SECRET_A. */
  apiKey: string;
  /** Stops everything and drops the database. */
  close(): Promise<void>;
}

export async function startSensorApiFixture(dialect: Dialect, overrides: Partial<SensorApiDeps> = {}): Promise<SensorApiFixture> {
  const database = await createTestDatabase(dialect);
  try {
    const { key } = await createApiKey(database.db, DEFAULT_TENANT_ID, 'test sensor', SECRET_A);
    const running = await runSensorApi(database.db, overrides);
    return {
      ...running,
      database,
      db: database.db,
      apiKey: key,
      close: async () => {
        await running.stop();
        await database.drop();
      },
    };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

/** The counter's value for these labels (0 when never incremented). */
export async function counterValue(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const sample = metric?.values.find((value) =>
    Object.entries(labels).every(([key, wanted]) => String(value.labels[key]) === wanted),
  );
  return sample?.value ?? 0;
}
