export {
  DATABASE_URL_ENV,
  DEFAULT_MIGRATE_STATUS_TIMEOUT_MS,
  DEFAULT_MIGRATE_TIMEOUT_MS,
  migrateCommandForHumans,
  planMigrationRun,
  type MigrateMode,
  type MigrateMount,
  type MigrateSpec,
  type MigrationRunPlan,
} from './migrate-commands.js';
export { pendingMigrations, runMigrations, type MigrateOptions, type MigrationRunResult } from './run-migrations.js';
