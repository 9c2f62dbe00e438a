export { type MigrationState, type MigrationStatusEntry, type PendingMigrations } from './migration-status.js';
