/**
 * tkctl, the operator CLI: one entry point over the stack lifecycle. Each command lives in
 * tkctl/commands/<command>.ts and has the signature of TkctlCommand (argv after its name, io),
 * so it runs in-process in tests and here alike.
 *
 *   node --import tsx tkctl/main.ts <command> [options]    (or the `tkctl` bin of package.json)
 */
import { pathToFileURL } from 'node:url';
import { DeployError } from '../components/errors.js';
import { guarded, line, type TkctlCommand, type TkctlIo } from './io.js';
interface CommandEntry {
  summary: string;
  run: TkctlCommand;
}

/**
 * A command whose module loads when it runs: tkctl starts in a fraction of a second whatever it
 * does (a rollback must not wait for the Automation API that `status` or `up` load).
 */
function lazy<M extends Record<string, unknown>>(load: () => Promise<M>, name: keyof M & string): TkctlCommand {
  return async (argv, io) => ((await load())[name] as TkctlCommand)(argv, io);
}

/**
 * The commands, in the order the layers depend on each other. A command whose signature is
 * `(argv, io) => Promise<number>` plugs in with one line.
 */
export const COMMANDS: Record<string, CommandEntry> = {
  init: { summary: 'create the stack and generate its secrets (never overwrites one)', run: lazy(() => import('./commands/init.js'), 'initCommand') },
  node: { summary: 'one production stack per maintainer node: node add <name> --host ssh://user@host, node list', run: lazy(() => import('./commands/node.js'), 'nodeCommand') },
  preview: { summary: 'what up would change (pulumi preview)', run: lazy(() => import('./commands/preview.js'), 'previewCommand') },
  up: { summary: 'deploy the checked-out commit (pulumi up; needs green CI; recorded in the history)', run: lazy(() => import('./commands/up.js'), 'upCommand') },
  rollback: { summary: 'serve a kept release again through pulumi up (--to, default the previous)', run: lazy(() => import('./commands/rollback.js'), 'rollbackCommand') },
  destroy: { summary: 'pulumi destroy (production stacks: --force and the typed stack name)', run: lazy(() => import('./commands/destroy.js'), 'destroyCommand') },
  status: { summary: 'live and previous release, health, snapshots, lock, last deployments (--json)', run: lazy(() => import('./commands/status.js'), 'statusCommand') },
  backup: { summary: 'a verified pg_dump snapshot of the database, now', run: lazy(() => import('./commands/backup.js'), 'backupCommand') },
  restore: { summary: 'replace the database with a snapshot (safety snapshot, confirmation, row counts)', run: lazy(() => import('./commands/restore.js'), 'restoreCommand') },
  snapshots: { summary: 'list the snapshots, or prune them by the stack\'s retention', run: lazy(() => import('./commands/snapshots.js'), 'snapshotsCommand') },
  logs: { summary: 'the logs of a service (--follow)', run: lazy(() => import('./commands/logs.js'), 'logsCommand') },
  admin: { summary: 'create a web UI administrator (the app\'s own command, in the live slot)', run: lazy(() => import('./commands/admin.js'), 'adminCommand') },
  apikey: { summary: 'create, list or revoke sensor API keys (the app\'s own command, in the live slot)', run: lazy(() => import('./commands/apikey.js'), 'apikeyCommand') },
  migrations: { summary: 'the migrations a branch adds: their SQL and destructive statements (pending --base <ref>)', run: lazy(() => import('./commands/migrations.js'), 'runMigrationsCommand') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    'Usage: tkctl <command> [--stack <name>] [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`),
    '',
    'Every command takes --help and --stack (default: the selected stack, `pulumi stack select`).',
    'Exit codes: 0 done, 1 a problem you can fix (the message says how), 70 a bug in tkctl.',
  ].join('\n');
}

export async function runTkctl(argv: string[], io: TkctlIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    line(name === undefined ? io.stderr : io.stdout, usage());
    return name === undefined ? 1 : 0;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    return guarded(io, async () => {
      throw new DeployError(`Unknown command "${name}"`, `tkctl --help lists them: ${Object.keys(COMMANDS).join(', ')}`);
    });
  }
  return entry.run(rest, io);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const code = await runTkctl(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), stdin: process.stdin });
  process.exitCode = code;
}
