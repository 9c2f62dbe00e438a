import type { Command } from 'commander';
import { migrationStatus, resolveFailedMigration, runMigrations } from '../../db/migrator.js';
import { commandLogger, loadCommandConfig, withDatabase } from '../context.js';

interface MigrateOptions {
  status?: boolean;
  json?: boolean;
  resolve?: string;
}

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('Apply pending database migrations (one process at a time, on every backend)')
    .option('--status', 'list applied, pending and failed migrations; change nothing')
    .option('--json', 'with --status: print the list as JSON (for tools such as the deploy toolkit)')
    .option('--resolve <id>', 'clear the record of a failed or interrupted migration so the next run retries it')
    .action(async (options: MigrateOptions, command: Command) => {
      const config = loadCommandConfig(command);
      const logger = commandLogger(config, 'migrate');
      await withDatabase(
        config,
        async (db) => {
          if (options.status) {
            const rows = await migrationStatus(db);
            if (options.json) {
              process.stdout.write(`${JSON.stringify(rows)}\n`);
              return;
            }
            const width = Math.max(2, ...rows.map((row) => row.id.length));
            process.stdout.write(`${'ID'.padEnd(width)}  STATUS             APPLIED AT                 MS\n`);
            for (const row of rows) {
              process.stdout.write(
                `${row.id.padEnd(width)}  ${row.status.padEnd(17)}  ${(row.appliedAt ?? '-').padEnd(25)}  ${row.executionMs ?? '-'}\n`,
              );
              if (row.error) process.stdout.write(`${' '.repeat(width)}  error: ${row.error}\n`);
              if (row.recordedChecksum) {
                process.stdout.write(`${' '.repeat(width)}  recorded ${row.recordedChecksum}, file ${row.checksum}\n`);
              }
            }
            return;
          }
          if (options.resolve) {
            const resolved = await resolveFailedMigration(db, options.resolve, { logger });
            process.stdout.write(`cleared ${resolved.id} (was ${resolved.previousStatus}); run \`trapperkeeper migrate\` to apply it again\n`);
            return;
          }
          const { applied } = await runMigrations(db, { logger });
          process.stdout.write(
            applied.length === 0 ? `schema is up to date (${db.redactedUrl})\n` : `applied ${applied.length} migration(s): ${applied.join(', ')}\n`,
          );
        },
        false,
      );
    });
}
