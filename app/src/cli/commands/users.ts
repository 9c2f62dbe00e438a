import type { Command } from 'commander';
import { DEFAULT_TENANT_ID } from '../../db/types.js';
import { createUser } from '../../db/users.js';
import { loadCommandConfig, withDatabase } from '../context.js';
import { readSecret } from '../read-secret.js';

export const ADMIN_PASSWORD_ENV = 'TK_ADMIN_PASSWORD';

export function registerUsersCommand(program: Command): void {
  const users = program.command('users').description('Manage web UI accounts');
  users
    .command('create-admin')
    .description(`Create an administrator; the password is read from ${ADMIN_PASSWORD_ENV} or standard input, never from argv`)
    .requiredOption('--username <name>', 'login name')
    .action(async (options: { username: string }, command: Command) => {
      const config = loadCommandConfig(command);
      const password = await readSecret(ADMIN_PASSWORD_ENV, 'password');
      await withDatabase(config, async (db) => {
        const user = await createUser(db, DEFAULT_TENANT_ID, options.username, password, { isAdmin: true });
        process.stdout.write(`created administrator ${user.username}\n`);
      });
    });
}
