import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeployError } from '../../components/errors.js';
import { isReleaseSemver } from '../config.js';

/**
 * What the app image is built from, as `git` pathspecs: the allowlist of .dockerignore. A change
 * anywhere else (a Pulumi.<stack>.yaml edited by `pulumi config set`) does not make the tree dirty.
 */
export const IMAGE_SOURCE_PATHSPECS = [
  'package.json',
  'package-lock.json',
  'migrations',
  'app',
  ':(exclude)app/test',
  ':(exclude)app/bench',
  ':(exclude,glob)**/*.test.ts',
] as const;

export interface GitFacts {
  /** Full SHA of HEAD. */
  commit: string;
  /** Committer time of HEAD: the same commit always gives the same tag. */
  committedAt: Date;
  /** Changed or untracked files among the image's sources, as `git status --porcelain` names them. */
  dirtyFiles: string[];
}

export interface ImageTagFacts {
  /** app/package.json's version. */
  version: string;
  git: GitFacts;
  /** Only read for a dirty build. */
  now: Date;
}

export interface ImageTag {
  /** `<semver>-<short sha>-<commit time>` (`...-dirty-<now>` for an allowed dirty build). */
  tag: string;
  version: string;
  commit: string;
  /** OCI `created`: the commit time, or now for a dirty build. */
  created: string;
  dirty: boolean;
}

export const SHORT_SHA_LENGTH = 8;

/** `20261123T101500Z`: UTC, to the second, sortable and valid in a Docker tag. */
export function tagTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/**
 * The release tag of the app image. Pure: the git facts come in, so an unchanged commit gives
 * the same tag (and `pulumi up` is a no-op), and a dirty tree is refused unless allowed.
 */
export function planImageTag(facts: ImageTagFacts, options: { allowDirty: boolean; pinnedVersion?: string }): ImageTag {
  const { version, git } = facts;
  if (!isReleaseSemver(version)) {
    throw new DeployError(
      `app/package.json's version '${version}' is not a semantic version usable in an image tag (like 1.4.0 or 1.4.0-rc.1, no +build)`,
      'npm version <major.minor.patch> -w app --no-git-tag-version',
    );
  }
  if (options.pinnedVersion !== undefined && options.pinnedVersion !== version) {
    throw new DeployError(
      `This stack is pinned to version ${options.pinnedVersion} (app.version) but app/package.json is ${version}`,
      `check out the ${options.pinnedVersion} release, or pulumi config set --path 'app.version' ${version}`,
    );
  }
  if (!/^[0-9a-f]{40}$/.test(git.commit)) throw new Error(`Not a full git SHA: ${git.commit}`);
  const base = `${version}-${git.commit.slice(0, SHORT_SHA_LENGTH)}-${tagTimestamp(git.committedAt)}`;
  if (git.dirtyFiles.length === 0) {
    return { tag: base, version, commit: git.commit, created: git.committedAt.toISOString(), dirty: false };
  }
  if (!options.allowDirty) {
    const shown = git.dirtyFiles.slice(0, 10).join(', ') + (git.dirtyFiles.length > 10 ? `, and ${git.dirtyFiles.length - 10} more` : '');
    throw new DeployError(
      `The image would not match commit ${git.commit.slice(0, SHORT_SHA_LENGTH)}: uncommitted changes in ${shown}`,
      `commit them (git add -A && git commit), or build them as a dirty release: pulumi config set --path 'release.allowDirty' true`,
    );
  }
  return { tag: `${base}-dirty-${tagTimestamp(facts.now)}`, version, commit: git.commit, created: facts.now.toISOString(), dirty: true };
}

/** The git facts of the checkout at `repoRoot`. */
export function readGitFacts(repoRoot: string): GitFacts {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim();
      throw new DeployError(
        `Cannot read the git state of ${repoRoot} (git ${args.join(' ')}): ${stderr || (error as Error).message}`,
        'run pulumi from a git checkout with at least one commit (git init && git add -A && git commit)',
      );
    }
  };
  const [commit = '', seconds = ''] = git('log', '-1', '--format=%H %ct').trim().split(' ');
  const dirtyFiles = git('status', '--porcelain', '--untracked-files=all', '--', ...IMAGE_SOURCE_PATHSPECS)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.slice(3));
  return { commit, committedAt: new Date(Number(seconds) * 1000), dirtyFiles };
}

export function readAppVersion(repoRoot: string): string {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'app', 'package.json'), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : '';
}
