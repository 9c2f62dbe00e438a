import { DeployError } from '../../components/errors.js';
import { JSON_OPTION, parseCommandArgs } from '../args.js';
import { runAppCommand } from '../app-command.js';
import { guarded, line, writeJson, type TkctlIo } from '../io.js';
import { appCommandOnClouds, chooseStack, liveSlotContainers, withStackHost } from '../stack-target.js';

/** Where the password comes from (as the app's own `users create-admin`): never argv. */
export const ADMIN_PASSWORD_ENV = 'TK_ADMIN_PASSWORD';

export const ADMIN_HELP = `Usage: tkctl admin create --username <name> [--stack <name>] [--json]

Creates a web UI administrator in the stack's database, by running the app's own
\`trapperkeeper users create-admin\` inside the live slot's web-ui container. The password is
read from ${ADMIN_PASSWORD_ENV} or the first line of standard input, never from the command line:
  printf '%s\\n' "$PASSWORD" | tkctl admin create --username alice

Options:
  -s, --stack <name>     the stack (default: the selected one)
      --username <name>  the login name
      --json             print {"username", "created": true}
  -h, --help             this text`;

export async function adminCommand(argv: string[], io: TkctlIo): Promise<number> {
  return guarded(io, async () => {
    const { values, positionals } = parseCommandArgs(argv, { name: 'admin', options: { ...JSON_OPTION, username: { type: 'string' } }, positionals: { min: 1, max: 1 } });
    if (values.help) return void line(io.stdout, ADMIN_HELP);
    if (positionals[0] !== 'create') throw new DeployError(`tkctl admin: unknown action "${positionals[0]}"`, 'tkctl admin create --username <name>');
    if (!values.username) throw new DeployError('tkctl admin create: --username is required', 'tkctl admin create --username <name>');
    const password = await readPassword(io);
    const stack = await chooseStack(io, values.stack);
    await withStackHost(io, stack, async (engine, state) => {
      const { containers } = liveSlotContainers(state, stack);
      await runAppCommand(engine, containers['web-ui'], ['users', 'create-admin', '--username', values.username!], {
        secretEnv: { [ADMIN_PASSWORD_ENV]: password },
        what: `Creating administrator ${values.username}`,
        fix: `check the password rules and that the name is free (tkctl logs web-ui --stack ${stack})`,
      });
    }, appCommandOnClouds('admin', 'users create-admin', stack));
    if (values.json) return void writeJson(io, { username: values.username, created: true });
    line(io.stdout, `created administrator ${values.username} in stack ${stack}`);
  });
}

async function readPassword(io: TkctlIo): Promise<string> {
  const fromEnv = process.env[ADMIN_PASSWORD_ENV];
  if (fromEnv) return fromEnv;
  if (!io.stdin || io.stdin.isTTY) {
    throw new DeployError('No password given', `pipe it on standard input (printf '%s\\n' "$PASSWORD" | tkctl admin create ...) or set ${ADMIN_PASSWORD_ENV}`);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Buffer));
  const first = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (!first) throw new DeployError('The password read from standard input is empty', `pipe a non-empty password, or set ${ADMIN_PASSWORD_ENV}`);
  return first;
}
