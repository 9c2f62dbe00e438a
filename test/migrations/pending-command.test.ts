/**
 * `tkctl migrations pending` on real git repositories: a main branch with released migrations,
 * a feature branch adding (or changing) some, through the command's function and through the
 * standalone entry point (`node --import tsx tkctl/commands/migrations.ts pending`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runMigrationsCommand } from '../../tkctl/commands/migrations.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const COMMAND = join(ROOT, 'tkctl', 'commands', 'migrations.ts');
const repos: string[] = [];
after(() => repos.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function git(cwd: string, ...args: string[]): string {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8' });
  assert.equal(result.status, 0, `git ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

function write(repo: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(repo, path)), { recursive: true });
    writeFileSync(join(repo, path), text);
  }
}

/** A repository whose main has 001 and 002 for postgres and sqlite, on a branch `feature`. */
function repository(): string {
  const repo = mkdtempSync(join(tmpdir(), 'tk-migrations-pending-'));
  repos.push(repo);
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'config', 'user.email', 'test@example.com');
  git(repo, 'config', 'user.name', 'test');
  write(repo, {
    'migrations/postgres/001_initial.sql': 'CREATE TABLE users (id CHAR(36) PRIMARY KEY, name TEXT NOT NULL);\n',
    'migrations/postgres/002_rules.sql': 'CREATE TABLE rules (id CHAR(36) PRIMARY KEY);\n',
    'migrations/sqlite/001_initial.sql': 'CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL);\n',
    'migrations/sqlite/002_rules.sql': 'CREATE TABLE rules (id TEXT PRIMARY KEY);\n',
  });
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'released migrations');
  git(repo, 'checkout', '-q', '-b', 'feature');
  return repo;
}

function commit(repo: string, files: Record<string, string>, message = 'change'): void {
  write(repo, files);
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', message);
}

async function run(repo: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  stdout.on('data', (chunk: Buffer) => chunks.stdout.push(chunk));
  stderr.on('data', (chunk: Buffer) => chunks.stderr.push(chunk));
  const code = await runMigrationsCommand(argv, { stdout, stderr, cwd: repo });
  return { code, stdout: Buffer.concat(chunks.stdout).toString(), stderr: Buffer.concat(chunks.stderr).toString() };
}

const DESTRUCTIVE = '-- 003: users lose the legacy name\nALTER TABLE users ADD COLUMN display_name TEXT;\n\nALTER TABLE users DROP COLUMN name;\n';

describe('tkctl migrations pending', () => {
  it('lists nothing and exits 0 when the branch adds no migration', async () => {
    const repo = repository();
    commit(repo, { 'README.md': 'docs only\n' });
    const { code, stdout } = await run(repo, 'pending', '--base', 'main');
    assert.equal(code, 0);
    assert.match(stdout, /no pending migrations relative to main/);
  });

  it('finds the files the branch adds, with the SQL and a warning naming file and line (markdown)', async () => {
    const repo = repository();
    commit(repo, { 'migrations/postgres/003_display_name.sql': DESTRUCTIVE, 'migrations/sqlite/003_display_name.sql': 'ALTER TABLE users ADD COLUMN display_name TEXT;\n' });
    // main moves on after the branch point: its new file is not this branch's.
    git(repo, 'checkout', '-q', 'main');
    commit(repo, { 'migrations/postgres/003_other.sql': 'DROP TABLE rules;\n' });
    git(repo, 'checkout', '-q', 'feature');

    const { code, stdout } = await run(repo, 'pending', '--base', 'main', '--markdown');
    assert.equal(code, 0, 'warnings alone do not fail without --fail-on-destructive');
    assert.match(stdout, /#### `migrations\/postgres\/003_display_name\.sql`\n\n```sql\n-- 003: users lose the legacy name\n/);
    assert.match(stdout, /#### `migrations\/sqlite\/003_display_name\.sql`/);
    assert.doesNotMatch(stdout, /003_other/);
    assert.match(stdout, /`migrations\/postgres\/003_display_name\.sql:4` drop-column: `DROP COLUMN users\.name`/);
    assert.equal(stdout.match(/:warning:/g)?.length, 1, 'one warning: ADD COLUMN nullable is safe');
    assert.ok(stdout.indexOf('```sql') < stdout.indexOf(':warning:'), 'SQL first, then warnings');
  });

  it('--fail-on-destructive exits 1 on a destructive statement, 0 on safe migrations', async () => {
    const repo = repository();
    commit(repo, { 'migrations/postgres/003_safe.sql': 'CREATE INDEX users_name ON users (name);\n' });
    assert.equal((await run(repo, 'pending', '--base', 'main', '--fail-on-destructive')).code, 0);
    commit(repo, { 'migrations/postgres/004_drop.sql': 'DROP TABLE rules;\n' });
    const failed = await run(repo, 'pending', '--base', 'main', '--fail-on-destructive');
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /1 destructive statement/);
  });

  it('counts files not committed yet, and ignores a comment mentioning DROP TABLE', async () => {
    const repo = repository();
    write(repo, { 'migrations/postgres/003_wip.sql': "-- we considered DROP TABLE rules; no\nINSERT INTO rules (id) VALUES ('DROP TABLE users');\n" });
    const { code, stdout } = await run(repo, 'pending', '--base', 'main', '--dialect', 'postgres', '--json', '--fail-on-destructive');
    assert.equal(code, 0);
    const report = JSON.parse(stdout);
    assert.deepEqual(report.dialects, ['postgres']);
    assert.deepEqual(report.pending.map((m: { file: string; findings: unknown[] }) => [m.file, m.findings]), [['migrations/postgres/003_wip.sql', []]]);
    assert.equal(report.baseCommit, git(repo, 'rev-parse', 'main'));
  });

  it('a changed released migration is an error (exit 1) naming the file and the fix; CRLF alone is not a change', async () => {
    const repo = repository();
    commit(repo, { 'migrations/sqlite/001_initial.sql': 'CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL);\r\n' });
    assert.equal((await run(repo, 'pending', '--base', 'main')).code, 0, 'CRLF has the same checksum as LF');

    commit(repo, { 'migrations/postgres/002_rules.sql': 'CREATE TABLE rules (id CHAR(36) PRIMARY KEY, name TEXT);\n' });
    const { code, stdout, stderr } = await run(repo, 'pending', '--base', 'main', '--json');
    assert.equal(code, 1);
    const report = JSON.parse(stdout);
    assert.deepEqual(report.problems.map((p: { kind: string; file: string }) => [p.kind, p.file]), [['changed-released', 'migrations/postgres/002_rules.sql']]);
    assert.match(report.problems[0].fix, /git checkout [0-9a-f]{12} -- migrations\/postgres\/002_rules\.sql/);
    assert.match(stderr, /1 released migration\(s\) changed/);
  });

  it('a removed released migration and a new one sorting before the last released are errors', async () => {
    const repo = repository();
    git(repo, 'rm', '-q', 'migrations/sqlite/002_rules.sql');
    commit(repo, { 'migrations/postgres/001b_late.sql': 'CREATE TABLE late (id INT);\n' });
    const { code, stdout } = await run(repo, 'pending', '--base', 'main');
    assert.equal(code, 1);
    assert.match(stdout, /error: migrations\/postgres\/001b_late\.sql sorts before 002_rules\.sql[^\n]*\n {2}fix: rename it to sort after 002_rules\.sql \(e\.g\. 003b_late\.sql\)/);
    assert.match(stdout, /error: migrations\/sqlite\/002_rules\.sql was removed/);
  });

  it('usage errors exit 1 and say what to run; --help exits 0', async () => {
    const repo = repository();
    const unknown = await run(repo, 'pending', '--base', 'main', '--frobnicate');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /frobnicate/);
    const both = await run(repo, 'pending', '--json', '--markdown', '--base', 'main');
    assert.equal(both.code, 1);
    assert.match(both.stderr, /exclude each other/);
    const dialect = await run(repo, 'pending', '--dialect', 'oracle', '--base', 'main');
    assert.match(dialect.stderr, /--dialect oracle is not a dialect/);
    const missingBase = await run(repo, 'pending', '--base', 'origin/nope');
    assert.equal(missingBase.code, 1);
    assert.match(missingBase.stderr, /has no commit named origin\/nope/);
    const help = await run(repo, '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /usage: tkctl migrations pending/);
  });

  it('runs standalone with node --import tsx, exit code and output as a process', () => {
    const repo = repository();
    commit(repo, { 'migrations/postgres/003_truncate.sql': '\nTRUNCATE events;\n' });
    // The repository has no node_modules: tsx is named by its resolved URL.
    const tsx = import.meta.resolve('tsx');
    const result = spawnSync(process.execPath, ['--import', tsx, COMMAND, 'pending', '--base', 'main', '--fail-on-destructive'], { cwd: repo, encoding: 'utf8' });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stdout, /warning: migrations\/postgres\/003_truncate\.sql:2 truncate: TRUNCATE events/);
  });
});
