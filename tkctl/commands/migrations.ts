/**
 * tkctl migrations pending [--base <ref>] [--dialect postgres|mysql|sqlite] [--dir <folder>]
 *                          [--json|--markdown] [--fail-on-destructive]
 *
 * The migrations a branch adds relative to a base ref, their SQL and a warning per destructive
 * statement (components/migrate/). Exit codes: 0 nothing wrong; 1 a released migration was
 * changed, removed or a new one sorts before it, destructive statements with
 * --fail-on-destructive, or bad usage; 70 a bug.
 *
 * Runs alone too: node --import tsx tkctl/commands/migrations.ts pending ...
 */
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Dialect } from '../../app/src/db/types.js';
import { DeployError } from '../../components/errors.js';
import { DIALECTS, findPendingMigrations, renderPendingMarkdown, renderPendingText } from '../../components/migrate/index.js';

export interface MigrationsCommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  cwd: string;
}

const USAGE = `usage: tkctl migrations pending [--base <ref>] [--dialect postgres|mysql|sqlite] [--dir <folder>]
                               [--json|--markdown] [--fail-on-destructive]

Lists the migration files new since the merge base of <ref> and HEAD (files on disk, committed
or not), with a warning for each destructive statement (DROP TABLE/COLUMN, column type changes,
ADD COLUMN NOT NULL without DEFAULT, SET NOT NULL, renames, TRUNCATE, DELETE without WHERE).
A released migration that was changed or removed, or a new one sorting before it, is an error.

  --base <ref>            what the branch is compared with (default: origin/$GITHUB_BASE_REF in a
                          GitHub pull request, else origin/main when it exists, else main)
  --dialect <dialect>     one dialect (default: every folder under --dir)
  --dir <folder>          the folder of per-dialect folders (default: migrations)
  --json | --markdown     machine-readable report, or markdown for a PR comment
  --fail-on-destructive   exit 1 when a pending migration has a destructive statement

exit: 0 fine, 1 an error above (or destructive with --fail-on-destructive), 70 a bug`;

export async function runMigrationsCommand(argv: string[], io: MigrationsCommandIo): Promise<number> {
  try {
    return run(argv, io);
  } catch (error) {
    if (error instanceof DeployError) {
      io.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    io.stderr.write(`unexpected error (a bug in tkctl): ${(error as Error)?.stack ?? String(error)}\n`);
    return 70;
  }
}

function run(argv: string[], io: MigrationsCommandIo): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        base: { type: 'string' },
        dialect: { type: 'string' },
        dir: { type: 'string' },
        json: { type: 'boolean' },
        markdown: { type: 'boolean' },
        'fail-on-destructive': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new DeployError(`tkctl migrations: ${(error as Error).message}`, 'tkctl migrations --help');
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals[0] !== 'pending' || positionals.length > 1) {
    throw new DeployError(`tkctl migrations: unknown subcommand "${positionals.join(' ')}"`, 'tkctl migrations pending [--base <ref>] (see tkctl migrations --help)');
  }
  if (values.json && values.markdown) {
    throw new DeployError('tkctl migrations pending: --json and --markdown exclude each other', 'pass one of them');
  }
  const dialect = values.dialect;
  if (dialect !== undefined && !(DIALECTS as readonly string[]).includes(dialect)) {
    throw new DeployError(`tkctl migrations pending: --dialect ${dialect} is not a dialect`, `use one of ${DIALECTS.join(', ')}`);
  }

  const report = findPendingMigrations({
    cwd: io.cwd,
    base: values.base ?? defaultBase(io.cwd),
    ...(values.dir ? { dir: values.dir } : {}),
    ...(dialect ? { dialects: [dialect as Dialect] } : {}),
  });
  if (values.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else io.stdout.write(values.markdown ? renderPendingMarkdown(report) : renderPendingText(report));

  const destructive = report.pending.reduce((count, migration) => count + migration.findings.length, 0);
  if (report.problems.length > 0) {
    io.stderr.write(`error: ${report.problems.length} released migration(s) changed, removed or out of order\n`);
    return 1;
  }
  if (destructive > 0 && values['fail-on-destructive']) {
    io.stderr.write(`error: ${destructive} destructive statement(s) in pending migrations (--fail-on-destructive)\n`);
    return 1;
  }
  return 0;
}

function defaultBase(cwd: string): string {
  if (process.env.GITHUB_BASE_REF) return `origin/${process.env.GITHUB_BASE_REF}`;
  return refExists(cwd, 'origin/main') ? 'origin/main' : 'main';
}

function refExists(cwd: string, ref: string): boolean {
  return spawnSync('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd, stdio: 'ignore' }).status === 0;
}

// Run directly (`node --import tsx tkctl/commands/migrations.ts pending ...`), argv is what
// follows `tkctl migrations`, as the dispatcher passes it.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runMigrationsCommand(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() }).then((code) => {
    process.exitCode = code;
  });
}
