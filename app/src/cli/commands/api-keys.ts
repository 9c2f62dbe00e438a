import type { Command } from 'commander';
import { requireHmacSecrets } from '../../config/hmac-secrets-env.js';
import { createApiKey, listApiKeys, revokeApiKey } from '../../db/api-keys.js';
import { recordHmacSecrets } from '../../db/hmac-secrets.js';
import { DEFAULT_TENANT_ID } from '../../db/types.js';
import { UserError } from '../../errors.js';
import { loadCommandConfig, withDatabase } from '../context.js';

export function registerApiKeysCommand(program: Command): void {
  const keys = program.command('api-keys').description('Manage sensor API keys');

  keys
    .command('create')
    .description('Issue a key under the primary TK_HMAC_SECRET; it is printed once and never stored')
    .requiredOption('--name <name>', 'who uses the key (a sensor, a team)')
    .action(async (options: { name: string }, command: Command) => {
      const config = loadCommandConfig(command);
      const [primary] = requireHmacSecrets(config);
      await withDatabase(config, async (db) => {
        await recordHmacSecrets(db, config.hmacSecrets);
        const { key, record } = await createApiKey(db, DEFAULT_TENANT_ID, options.name, primary!);
        process.stderr.write(`created key ${record.id} (${record.name}); store it now, it cannot be shown again:\n`);
        process.stdout.write(`${key}\n`);
      });
    });

  keys
    .command('list')
    .description('List keys (never the keys themselves)')
    .option('--json', 'print a JSON array of {id, name, secretId, createdAt, lastUsedAt, revokedAt} (for tools such as the deploy toolkit)')
    .action(async (options: { json?: boolean }, command: Command) => {
      const config = loadCommandConfig(command);
      await withDatabase(config, async (db) => {
        const rows = await listApiKeys(db, DEFAULT_TENANT_ID);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(rows)}\n`);
          return;
        }
        process.stdout.write('ID                                    NAME                 CREATED                   LAST USED                 REVOKED\n');
        for (const row of rows) {
          process.stdout.write(
            `${row.id}  ${row.name.padEnd(20)} ${row.createdAt.padEnd(25)} ${(row.lastUsedAt ?? '-').padEnd(25)} ${row.revokedAt ?? '-'}\n`,
          );
        }
      });
    });

  keys
    .command('revoke')
    .description('Revoke a key: sensors using it get PERMISSION_DENIED')
    .argument('<id>', 'the key id shown by `api-keys list`')
    .action(async (id: string, _options: unknown, command: Command) => {
      const config = loadCommandConfig(command);
      await withDatabase(config, async (db) => {
        if (!(await revokeApiKey(db, DEFAULT_TENANT_ID, id))) {
          throw new UserError(`No active API key with id ${id}`, 'list the keys with `trapperkeeper api-keys list`');
        }
        process.stdout.write(`revoked ${id}\n`);
      });
    });
}
