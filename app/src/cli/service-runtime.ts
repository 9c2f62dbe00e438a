import type { Command } from 'commander';
import type { HmacSecret } from '../auth/hmac-secrets.js';
import type { AppConfig, ConfigFlags } from '../config/load.js';
import { describeConfig } from '../config/describe.js';
import { requireHmacSecrets } from '../config/hmac-secrets-env.js';
import { recordHmacSecrets } from '../db/hmac-secrets.js';
import { currentSchemaVersion } from '../db/migrator.js';
import type { Database } from '../db/types.js';
import type { OpsDeps } from '../http/ops-routes.js';
import { shutdownOnSignal, type ShutdownStep } from '../lifecycle/shutdown.js';
import type { Logger } from '../log/logger.js';
import { flushRefusalLog } from '../log/refusal-log.js';
import { createMetrics, type Metrics } from '../metrics/registry.js';
import { BUILD_INFO } from '../version.js';
import { commandLogger, loadCommandConfig, openMigratedDatabase } from './context.js';
import { explainListenError } from './listen-error.js';

/** What a long-running service gets: validated config, a migrated database, metrics. */
export interface ServiceRuntime {
  config: AppConfig;
  logger: Logger;
  db: Database;
  metrics: Metrics;
  hmacSecrets: HmacSecret[];
  ops: OpsDeps;
}

export interface StartedService {
  /** Printed once the service listens. */
  listening: Record<string, string>;
  /** Run in order on SIGTERM/SIGINT; the database is closed after them. */
  shutdown: ShutdownStep[];
}

/**
 * The start-up sequence shared by `sensor-api` and `web-ui`: config, secrets, a database whose
 * schema is current, the secret registry check, then the service; SIGTERM drains and exits 0.
 */
export async function runService(
  command: Command,
  name: string,
  flags: Omit<ConfigFlags, 'global'>,
  start: (runtime: ServiceRuntime) => Promise<StartedService>,
): Promise<void> {
  const config = loadCommandConfig(command, flags);
  const logger = commandLogger(config, name, 'stdout');
  const hmacSecrets = requireHmacSecrets(config);
  const db = await openMigratedDatabase(config);
  let started: StartedService | undefined;
  const shutdown = shutdownOnSignal(logger, () => [
    ...(started?.shutdown ?? []),
    { name: 'close database', run: () => db.close() },
    { name: 'write pending log summaries', run: async () => flushRefusalLog(logger) },
  ]);
  try {
    await recordHmacSecrets(db, hmacSecrets);
    const metrics = createMetrics(BUILD_INFO, () => db.poolStats());
    const ops: OpsDeps = {
      db,
      metrics,
      build: BUILD_INFO,
      schemaVersion: () => currentSchemaVersion(db),
      draining: shutdown.shuttingDown,
      releaseId: process.env.TK_RELEASE_ID,
    };
    logger.info({ config: describeConfig(config), build: BUILD_INFO }, `starting ${name}`);
    started = await start({ config, logger, db, metrics, hmacSecrets, ops });
    logger.info(started.listening, `${name} listening`);
  } catch (error) {
    await db.close();
    throw explainListenError(error, name);
  }
}
