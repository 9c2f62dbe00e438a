import { z } from 'zod';
import { DeployError } from '../../components/errors.js';
import { JSON_OPTION, parseCommandArgs } from '../args.js';
import { runAppCommand } from '../app-command.js';
import { guarded, line, writeJson, type TkctlIo } from '../io.js';
import { appCommandOnClouds, chooseStack, liveSlotContainers, withStackHost } from '../stack-target.js';

export const APIKEY_HELP = `Usage: tkctl apikey create --name <who> | list | revoke <id>   [--stack <name>] [--json]

Sensor API keys, through the app's own \`trapperkeeper api-keys\` inside the live slot's
sensor-api container (its database and TK_HMAC_SECRET):
  create  issues a key and prints it ONCE on stdout (the only secret tkctl prints: the key you
          asked for; it is stored only as an HMAC, so store it now)
  list    every key's id, name, HMAC secret id, creation, last use and revocation (never the
          keys); --json is the app's own api-keys list --json
  revoke  revokes a key by id; sensors using it get PERMISSION_DENIED

Options:
  -s, --stack <name>  the stack (default: the selected one)
      --name <who>    create: who uses the key (a sensor, a team)
      --json          create: {"key"}; list: an array; revoke: {"revoked"}
  -h, --help          this text`;

/** One row of the app's `trapperkeeper api-keys list --json` (app/src/db/api-keys.ts's ApiKeyRecord). */
const apiKeyRows = z.array(
  z.object({
    id: z.string(),
    name: z.string(),
    /** Which TK_HMAC_SECRET the key was issued under (its id, not the secret): what a rotation retires. */
    secretId: z.string(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  }),
);

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
        if (!values.json) return void io.stdout.write(await runAppCommand(engine, container, ['api-keys', 'list'], { what: 'Listing API keys', fix }));
        const text = await runAppCommand(engine, container, ['api-keys', 'list', '--json'], {
          what: 'Listing API keys',
          fix: `${fix}  # a release older than api-keys list --json: tkctl apikey list (text) works with it`,
        });
        return writeJson(io, parseKeyList(text, container));
      }
      await runAppCommand(engine, container, ['api-keys', 'revoke', id!], { what: `Revoking API key ${id}`, fix: `tkctl apikey list --stack ${stack} shows the active keys` });
      if (values.json) return writeJson(io, { revoked: id });
      line(io.stdout, `revoked ${id}`);
    }, appCommandOnClouds('apikey', 'api-keys', stack));
  });
}

/** The app's `api-keys list --json`, checked at the edge. */
function parseKeyList(text: string, container: string): z.infer<typeof apiKeyRows> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const rows = apiKeyRows.safeParse(json);
  if (!rows.success) {
    throw new DeployError(
      `trapperkeeper api-keys list --json in ${container} printed no list of keys: ${text.trim().slice(0, 200) || '(nothing)'}`,
      'tkctl apikey list (without --json) shows the app\'s table; report this as a bug',
    );
  }
  return rows.data;
}
