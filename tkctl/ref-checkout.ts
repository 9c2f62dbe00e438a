import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { DeployError } from '../components/errors.js';
import { progress, type TkctlIo } from './io.js';

/**
 * `tkctl up --ref <ref>`: the commit a ref names, checked out in a temporary `git worktree` so
 * the Pulumi program, the release code and the app image all come from that commit, while the
 * operator's checkout stays as it is. What is not the ref's:
 * - the stack's config: Pulumi.<stack>.yaml (its secrets, encryption salt and rollback pin) and
 *   .env.<stack> are the operator's, copied from the project folder;
 * - the dependencies: the project's node_modules when the ref's package-lock.json is the same
 *   file (linked, not copied), else `npm ci` in the worktree.
 * The worktree is removed afterwards, whatever happened; Ctrl-C while it exists reaches the
 * child processes (they stop) and then the removal.
 */
export interface RefCheckout {
  ref: string;
  commit: string;
  /** The Pulumi project folder inside the worktree. */
  dir: string;
  /** The worktree's root (what `git worktree list` shows while it exists). */
  worktree: string;
  dependencies: 'linked' | 'installed';
}

function git(dir: string, args: string[]): { ok: boolean; out: string; err: string } {
  const result = spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8' });
  return { ok: result.status === 0, out: (result.stdout ?? '').trim(), err: (result.stderr ?? '').trim() };
}

/** The full commit a ref names in the checkout at `dir`, or a DeployError saying how to get it. */
export function resolveRef(dir: string, ref: string): string {
  if (!git(dir, ['rev-parse', '--git-dir']).ok) throw new DeployError(`${dir} is not a git checkout, so --ref ${ref} names nothing`, 'run tkctl from the repository\'s checkout');
  if (ref.startsWith('-')) throw new DeployError(`--ref ${ref} is not a git ref (it starts with -)`, 'tkctl up --ref v1.2.0 (a tag, a branch or a commit)');
  const found = git(dir, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  if (!found.ok || !/^[0-9a-f]{40,64}$/.test(found.out)) {
    throw new DeployError(`--ref ${ref} names no commit in this checkout`, `git fetch origin ${ref} (or git fetch --tags), then tkctl up --ref ${ref}; git log --oneline lists the commits`);
  }
  return found.out;
}

export async function withRefCheckout<T>(
  io: TkctlIo,
  options: { ref: string; commit: string; stack: string },
  work: (checkout: RefCheckout) => Promise<T>,
): Promise<T> {
  const project = resolve(io.cwd);
  const top = git(project, ['rev-parse', '--show-toplevel']);
  if (!top.ok) throw new DeployError(`${project} is not a git checkout`, 'run tkctl from the repository\'s checkout');
  const prefix = relative(top.out, project);
  const scratch = mkdtempSync(join(tmpdir(), 'tkctl-up-ref-'));
  const worktree = join(scratch, 'checkout');
  const links: string[] = [];
  // Ctrl-C goes to the whole foreground process group: the children (git, npm, pulumi) stop on
  // it and their failure unwinds to the cleanup below; tkctl itself must not die before that.
  const keepAlive = () => progress(io, 'interrupted: stopping, then removing the temporary worktree');
  process.on('SIGINT', keepAlive);
  process.on('SIGTERM', keepAlive);
  try {
    const added = git(top.out, ['worktree', 'add', '--detach', worktree, options.commit]);
    if (!added.ok) throw new DeployError(`Cannot check out ${options.ref} in a temporary worktree: ${added.err}`, 'git worktree list; git worktree prune removes stale entries');
    const checkedOut = git(worktree, ['rev-parse', 'HEAD']).out;
    if (checkedOut !== options.commit) throw new Error(`the worktree of ${options.ref} is at ${checkedOut}, not ${options.commit}`);
    progress(io, `checked out ${options.ref} (${checkedOut}) in ${worktree}`);
    const dir = join(worktree, prefix);
    if (!existsSync(join(dir, 'Pulumi.yaml'))) {
      throw new DeployError(`${options.ref} has no ${join(prefix, 'Pulumi.yaml') || 'Pulumi.yaml'}: it predates this Pulumi project`, 'deploy a later commit, or tkctl rollback --to <release> to serve a release that ran before');
    }
    for (const file of [`Pulumi.${options.stack}.yaml`, `.env.${options.stack}`]) {
      if (!existsSync(join(project, file))) continue;
      copyFileSync(join(project, file), join(dir, file));
      if (file.startsWith('.env.')) chmodSync(join(dir, file), 0o600);
      progress(io, `  ${file}: the stack's config from ${project}`);
    }
    const dependencies = await provideDependencies(io, project, dir, links);
    return await work({ ref: options.ref, commit: options.commit, dir, worktree, dependencies });
  } finally {
    // The links first, so nothing below can reach through them into the project's node_modules.
    for (const link of links) if (isSymlink(link)) unlinkSync(link);
    const removed = git(top.out, ['worktree', 'remove', '--force', worktree]);
    rmSync(scratch, { recursive: true, force: true });
    if (!removed.ok) git(top.out, ['worktree', 'prune']);
    process.off('SIGINT', keepAlive);
    process.off('SIGTERM', keepAlive);
    progress(io, `removed the temporary worktree ${worktree}`);
  }
}

/**
 * The ref's dependencies: the project's own node_modules when both package-lock.json files are
 * byte for byte the same (what `npm ci` would install is what is there), else a fresh `npm ci`.
 */
async function provideDependencies(io: TkctlIo, project: string, dir: string, links: string[]): Promise<RefCheckout['dependencies']> {
  const lockfile = (folder: string) => (existsSync(join(folder, 'package-lock.json')) ? readFileSync(join(folder, 'package-lock.json')) : undefined);
  const ours = lockfile(project);
  const theirs = lockfile(dir);
  if (!theirs) throw new DeployError(`The ref has no package-lock.json in its project folder, so its dependencies are unknown`, 'deploy a commit with a package-lock.json');
  if (ours?.equals(theirs) && existsSync(join(project, 'node_modules'))) {
    const link = join(dir, 'node_modules');
    symlinkSync(join(project, 'node_modules'), link, 'dir');
    links.push(link);
    progress(io, '  node_modules: the project\'s own (package-lock.json is the same)');
    return 'linked';
  }
  progress(io, '  node_modules: package-lock.json differs from the project\'s; npm ci in the worktree');
  const code = await new Promise<number>((done, fail) => {
    const child = spawn('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => io.stderr.write(chunk));
    child.stderr.on('data', (chunk: Buffer) => io.stderr.write(chunk));
    child.on('error', fail);
    child.on('close', (exit) => done(exit ?? 1));
  });
  if (code !== 0) throw new DeployError(`npm ci for the ref failed (exit ${code}); nothing was deployed`, 'the npm output above says why (a registry unreachable, a lockfile out of date at that commit)');
  return 'installed';
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
