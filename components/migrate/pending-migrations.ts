import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { migrationChecksum } from '../../app/src/db/migration-files.js';
import type { Dialect } from '../../app/src/db/types.js';
import { DeployError } from '../errors.js';
import { findDestructiveStatements, type DestructiveFinding } from './destructive-sql.js';

/**
 * The migrations a change adds: the `.sql` files of migrations/<dialect>/ on disk (committed or
 * not) compared with the same folder at the merge base of a base ref (what `git diff base...`
 * compares with), by the checksum `trapperkeeper migrate` records (CRLF read as LF).
 *
 * A file new since the base is pending: `migrate` applies it on the next release. A file the base
 * already has is released: databases recorded its checksum, so changing or deleting it is an
 * error (`migrate` would refuse the changed file), and so is a new file sorting before the last
 * released one (`migrate` refuses to apply out of order).
 */
export const DIALECTS: readonly Dialect[] = ['postgres', 'mysql', 'sqlite'];

export interface PendingMigration {
  dialect: Dialect;
  /** The file name without `.sql`, as `migrate` records it. */
  id: string;
  /** Path from the repository root, with `/`. */
  file: string;
  sql: string;
  findings: DestructiveFinding[];
}

export type MigrationProblemKind = 'changed-released' | 'removed-released' | 'out-of-order';

export interface MigrationProblem {
  kind: MigrationProblemKind;
  dialect: Dialect;
  file: string;
  message: string;
  fix: string;
}

export interface PendingMigrationsReport {
  /** The base ref as given, and the merge-base commit the files were compared with. */
  base: string;
  baseCommit: string;
  dialects: Dialect[];
  pending: PendingMigration[];
  problems: MigrationProblem[];
}

export interface PendingMigrationsOptions {
  /** Any folder inside the git work tree. */
  cwd: string;
  base: string;
  /** The folder holding one sub-folder per dialect, relative to cwd. @default 'migrations' */
  dir?: string;
  /** @default every dialect that has a folder on disk or at the base */
  dialects?: readonly Dialect[];
}

export function findPendingMigrations(options: PendingMigrationsOptions): PendingMigrationsReport {
  const root = git(options.cwd, ['rev-parse', '--show-toplevel'], 'is not inside a git work tree', 'run it from a clone of the repository');
  const migrationsDir = resolve(options.cwd, options.dir ?? 'migrations');
  const fromRoot = relative(root, migrationsDir).split(sep).join('/');
  if (fromRoot.startsWith('..')) {
    throw new DeployError(`The migrations folder ${migrationsDir} is outside the repository ${root}`, 'pass --dir with a folder inside the repository');
  }
  const baseCommit = mergeBase(root, options.base);
  const dialects = (options.dialects ?? DIALECTS).filter(
    (dialect) => options.dialects || isDirectory(join(migrationsDir, dialect)) || baseFiles(root, baseCommit, `${fromRoot}/${dialect}`).size > 0,
  );

  const pending: PendingMigration[] = [];
  const problems: MigrationProblem[] = [];
  for (const dialect of dialects) {
    const folder = `${fromRoot}/${dialect}`;
    const released = baseFiles(root, baseCommit, folder);
    const current = diskFiles(join(migrationsDir, dialect));
    const lastReleased = [...released.keys()].sort().at(-1);

    for (const [name, sql] of current) {
      const file = `${folder}/${name}`;
      const releasedChecksum = released.get(name);
      if (releasedChecksum === undefined) {
        if (lastReleased !== undefined && name < lastReleased) problems.push(outOfOrder(dialect, file, name, lastReleased));
        pending.push({ dialect, id: name.slice(0, -'.sql'.length), file, sql, findings: findDestructiveStatements(sql, dialect) });
      } else if (releasedChecksum !== migrationChecksum(sql)) {
        problems.push({
          kind: 'changed-released',
          dialect,
          file,
          message: `${file} changed, but ${options.base} already has it: databases migrated with it recorded its old checksum, so \`trapperkeeper migrate\` refuses to run`,
          fix: `restore it (git checkout ${baseCommit.slice(0, 12)} -- ${file}) and put the change in a new migration that sorts after it`,
        });
      }
    }
    for (const name of released.keys()) {
      if (current.has(name)) continue;
      const file = `${folder}/${name}`;
      problems.push({
        kind: 'removed-released',
        dialect,
        file,
        message: `${file} was removed, but ${options.base} already has it: databases migrated with it still record it`,
        fix: `restore it (git checkout ${baseCommit.slice(0, 12)} -- ${file}); undo its effect with a new migration instead`,
      });
    }
  }
  pending.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { base: options.base, baseCommit, dialects: [...dialects], pending, problems };
}

function outOfOrder(dialect: Dialect, file: string, name: string, lastReleased: string): MigrationProblem {
  const number = /^(\d+)/.exec(lastReleased)?.[1];
  const suggestion = number
    ? `${String(Number(number) + 1).padStart(number.length, '0')}${name.replace(/^\d+/, '')}`
    : `a name sorting after ${lastReleased}`;
  return {
    kind: 'out-of-order',
    dialect,
    file,
    message: `${file} sorts before ${lastReleased}, which is already released: \`trapperkeeper migrate\` refuses to apply it out of order`,
    fix: `rename it to sort after ${lastReleased} (e.g. ${suggestion})`,
  };
}

function mergeBase(root: string, base: string): string {
  git(
    root,
    ['rev-parse', '--verify', '--quiet', `${base}^{commit}`],
    `has no commit named ${base}`,
    `fetch it first (git fetch origin ${base.replace(/^origin\//, '')}; in GitHub Actions: actions/checkout with fetch-depth: 0), or pass --base <ref>`,
  );
  return git(
    root,
    ['merge-base', base, 'HEAD'],
    `has no common ancestor of ${base} and HEAD`,
    'fetch the full history (git fetch --unshallow; in GitHub Actions: actions/checkout with fetch-depth: 0)',
  );
}

/** file name -> checksum of the .sql files directly in `folder` at `commit`. */
function baseFiles(root: string, commit: string, folder: string): Map<string, string> {
  const listing = git(root, ['ls-tree', '--name-only', `${commit}:${folder}`], '', '', { allowFailure: true });
  const files = new Map<string, string>();
  for (const name of listing.split('\n').filter((entry) => entry.endsWith('.sql'))) {
    files.set(name, migrationChecksum(git(root, ['cat-file', 'blob', `${commit}:${folder}/${name}`], `cannot read ${folder}/${name} at ${commit}`, 'check the repository')));
  }
  return files;
}

/** file name -> text of the .sql files in `folder` on disk, like `migrate` reads them. */
function diskFiles(folder: string): Map<string, string> {
  if (!isDirectory(folder)) return new Map();
  return new Map(
    readdirSync(folder)
      .filter((name) => name.endsWith('.sql'))
      .sort()
      .map((name) => [name, readFileSync(join(folder, name), 'utf8')]),
  );
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

function git(cwd: string, args: string[], failure: string, fix: string, options: { allowFailure?: boolean } = {}): string {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw new DeployError(`Could not run git: ${result.error.message}`, 'install git');
  if (result.status !== 0) {
    if (options.allowFailure) return '';
    throw new DeployError(`The repository at ${cwd} ${failure} (git ${args.join(' ')}: ${result.stderr.trim() || `exit ${result.status}`})`, fix);
  }
  // Trailing newline only: file contents keep their own whitespace.
  return args[0] === 'cat-file' ? result.stdout : result.stdout.replace(/\n$/, '');
}
