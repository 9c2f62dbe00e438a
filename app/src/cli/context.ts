import { homedir } from 'node:os';
import type { Command } from 'commander';
import { loadConfig, type AppConfig, type ConfigFlags } from '../config/load.js';
import { openDatabase } from '../db/connect.js';
import { assertSchemaCurrent } from '../db/migrator.js';
import type { Database } from '../db/types.js';
import { createLogger, type Logger } from '../log/logger.js';

/** The global flags every subcommand accepts (see main.ts). */
interface GlobalOptions {
  dataDir?: string;
  dbUrl?: string;
  logLevel?: string;
  config?: string;
}

/** Parses the config once, from the command's flags, the environment and the TOML files. */
export function loadCommandConfig(command: Command, serviceFlags: Omit<ConfigFlags, 'global'> = {}): AppConfig {
  const global = command.optsWithGlobals<GlobalOptions>();
  return loadConfig({
    flags: {
      global: { dataDir: global.dataDir, dbUrl: global.dbUrl, logLevel: global.logLevel, config: global.config },
      ...serviceFlags,
    },
    env: process.env,
    cwd: process.cwd(),
    homeDir: homedir(),
  });
}

/** Services log to stdout; one-shot commands to stderr, keeping stdout for their result. */
export function commandLogger(config: AppConfig, name?: string, stream: 'stdout' | 'stderr' = 'stderr'): Logger {
  return createLogger({ level: config.logLevel, name, stream, refusals: config.refusalLog });
}

export function openConfiguredDatabase(config: AppConfig): Promise<Database> {
  const { url, ca, ...pool } = config.database;
  return openDatabase(url, pool, ca !== undefined ? { ca } : {});
}

/** Opens the database and refuses to go on while migrations are pending (services call this). */
export async function openMigratedDatabase(config: AppConfig): Promise<Database> {
  const db = await openConfiguredDatabase(config);
  try {
    await assertSchemaCurrent(db, { url: config.database.url });
    return db;
  } catch (error) {
    await db.close();
    throw error;
  }
}

/** Runs `fn` with an open database and closes it afterwards, whatever happens. */
export async function withDatabase<T>(config: AppConfig, fn: (db: Database) => Promise<T>, migrated = true): Promise<T> {
  const db = migrated ? await openMigratedDatabase(config) : await openConfiguredDatabase(config);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
