import { DeployError } from '../../components/errors.js';
import { JSON_OPTION, parseCommandArgs } from '../args.js';
import { runAppCommand } from '../app-command.js';
import { guarded, line, writeJson, type TkctlIo } from '../io.js';
import { chooseStack, liveSlotContainers, withStackHost } from '../stack-target.js';

export const APIKEY_HELP = `Usage: tkctl apikey create --name <who> | list | revoke <id>   [--stack <name>] [--json]

Sensor API keys, through the app's own \`trapperkeeper api-keys\` inside the live slot's
sensor-api container (its database and TK_HMAC_SECRET):
  create  issues a key and prints it ONCE on stdout (the only secret tkctl prints: the key you
          asked for; it is stored only as an HMAC, so store it now)
  list    every key's id, name, creation, last use and revocation (never the keys)
  revoke  revokes a key by id; sensors using it get PERMISSION_DENIED

Options:
  -s, --stack <name>  the stack (default: the selected one)
      --name <who>    create: who uses the key (a sensor, a team)
      --json          create: {"key"}; list: an array; revoke: {"revoked"}
  -h, --help          this text`;

interface ApiKeyRow {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export async function apikeyCommand(argv: string[], io: TkctlIo): Promise<number> {
  return guarded(io, async () => {
    const { values, positionals } = parseCommandArgs(argv, { name: 'apikey', options: { ...JSON_OPTION, name: { type: 'string' } }, positionals: { min: 1, max: 2 } });
    if (values.help) return void line(io.stdout, APIKEY_HELP);
    const [action, id] = positionals;
    const usage = 'tkctl apikey create --name <who> | tkctl apikey list | tkctl apikey revoke <id>';
    if (action === 'create' && !values.name) throw new DeployError('tkctl apikey create: --name is required', 'tkctl apikey create --name <who>');
    if (action === 'revoke' && !id) throw new DeployError('tkctl apikey revoke: the key id is required', 'tkctl apikey list shows the ids');
    if (action !== 'create' && action !== 'list' && action !== 'revoke') throw new DeployError(`tkctl apikey: unknown action "${action}"`, usage);
    const stack = await chooseStack(io, values.stack);
    await withStackHost(io, stack, async (engine, state) => {
      const container = liveSlotContainers(state, stack).containers['sensor-api'];
      const fix = `tkctl status --stack ${stack}; tkctl logs sensor-api --stack ${stack}`;
      if (action === 'create') {
        const key = (await runAppCommand(engine, container, ['api-keys', 'create', '--name', values.name!], { what: 'Creating an API key', fix })).trim();
        if (values.json) return writeJson(io, { name: values.name, key });
        line(io.stderr, `created a key for ${values.name}; store it now, it cannot be shown again:`);
        return line(io.stdout, key);
      }
      if (action === 'list') {
        const table = await runAppCommand(engine, container, ['api-keys', 'list'], { what: 'Listing API keys', fix });
        if (values.json) return writeJson(io, parseKeyTable(table));
        return void io.stdout.write(table);
      }
      await runAppCommand(engine, container, ['api-keys', 'revoke', id!], { what: `Revoking API key ${id}`, fix: `tkctl apikey list --stack ${stack} shows the active keys` });
      if (values.json) return writeJson(io, { revoked: id });
      line(io.stdout, `revoked ${id}`);
    });
  });
}

/** The app's `api-keys list` table: id, name (may hold spaces), then three single-word columns. */
function parseKeyTable(table: string): ApiKeyRow[] {
  return table
    .split('\n')
    .slice(1)
    .flatMap((row) => {
      const match = /^(\S+) {2}(.*?)\s+(\S+)\s+(\S+)\s+(\S+)\s*$/.exec(row);
      if (!match) return [];
      const [, id, name, createdAt, lastUsed, revoked] = match;
      return [{ id: id!, name: name!.trim(), createdAt: createdAt!, lastUsedAt: lastUsed === '-' ? null : lastUsed!, revokedAt: revoked === '-' ? null : revoked! }];
    });
}
