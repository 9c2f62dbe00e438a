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
import { initCommand } from './commands/init.js';
import { adminCommand } from './commands/admin.js';
import { apikeyCommand } from './commands/apikey.js';
import { backupCommand } from './commands/backup.js';
import { destroyCommand } from './commands/destroy.js';
import { logsCommand } from './commands/logs.js';
import { nodeCommand } from './commands/node.js';
import { runMigrationsCommand } from './commands/migrations.js';
import { previewCommand } from './commands/preview.js';
import { restoreCommand } from './commands/restore.js';
import { rollbackCommand } from './commands/rollback.js';
import { snapshotsCommand } from './commands/snapshots.js';
import { statusCommand } from './commands/status.js';
import { upCommand } from './commands/up.js';

interface CommandEntry {
  summary: string;
  run: TkctlCommand;
}

/**
 * The commands, in the order the layers depend on each other. A command whose signature is
 * `(argv, io) => Promise<number>` plugs in with one line.
 */
export const COMMANDS: Record<string, CommandEntry> = {
  init: { summary: 'create the stack and generate its secrets (never overwrites one)', run: initCommand },
  node: { summary: 'one production stack per maintainer node: node add <name> --host ssh://user@host, node list', run: nodeCommand },
  preview: { summary: 'what up would change (pulumi preview)', run: previewCommand },
  up: { summary: 'deploy the checked-out commit (pulumi up; needs green CI; recorded in the history)', run: upCommand },
  rollback: { summary: 'serve a kept release again through pulumi up (--to, default the previous)', run: rollbackCommand },
  destroy: { summary: 'pulumi destroy (production stacks: --force and the typed stack name)', run: destroyCommand },
  status: { summary: 'live and previous release, health, snapshots, lock, last deployments (--json)', run: statusCommand },
  backup: { summary: 'a verified pg_dump snapshot of the database, now', run: backupCommand },
  restore: { summary: 'replace the database with a snapshot (safety snapshot, confirmation, row counts)', run: restoreCommand },
  snapshots: { summary: 'list the snapshots, or prune them by the stack\'s retention', run: snapshotsCommand },
  logs: { summary: 'the logs of a service (--follow)', run: logsCommand },
  admin: { summary: 'create a web UI administrator (the app\'s own command, in the live slot)', run: adminCommand },
  apikey: { summary: 'create, list or revoke sensor API keys (the app\'s own command, in the live slot)', run: apikeyCommand },
  migrations: { summary: 'the migrations a branch adds: their SQL and destructive statements (pending --base <ref>)', run: runMigrationsCommand },
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
