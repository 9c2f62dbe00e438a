export { type MigrationState, type MigrationStatusEntry, type PendingMigrations } from './migration-status.js';
export { findDestructiveStatements, type DestructiveFinding, type DestructiveRule } from './destructive-sql.js';
export {
  DIALECTS,
  findPendingMigrations,
  type MigrationProblem,
  type PendingMigration,
  type PendingMigrationsReport,
} from './pending-migrations.js';
export { renderPendingMarkdown, renderPendingText } from './pending-report.js';
