import { spawnSync } from 'node:child_process';

/**
 * Whether CI passed for the commit `tkctl up` would deploy. tkctl runs offline, so it cannot ask
 * a CI server; it reads what CI left where git carries it:
 *   1. TK_CI_STATUS in the environment: a CI job that deploys the commit it has just tested sets
 *      it (`success`); it wins.
 *   2. a git note on the commit under refs/notes/ci whose first line is the status, written by CI
 *      after the tests and pushed (`git notes --ref=ci add -f -m success <sha>`,
 *      `git push origin refs/notes/ci`); operators fetch it with
 *      `git fetch origin refs/notes/ci:refs/notes/ci`.
 * Anything but `success` refuses the deployment; a working tree with uncommitted changes is never
 * green (CI did not test those changes). `--ignore-ci <reason>` overrides, and the reason is
 * recorded in the deployment history.
 */
export const CI_STATUS_ENV = 'TK_CI_STATUS';
export const CI_NOTES_REF = 'ci';

export interface CiStatus {
  commit: string | null;
  green: boolean;
  /** What was found, for the message: "success (git note)", "no CI status recorded", ... */
  detail: string;
}

function git(dir: string, args: string[]): { ok: boolean; out: string } {
  const result = spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8' });
  return { ok: result.status === 0, out: (result.stdout ?? '').trim() };
}

/**
 * The CI status of the commit to deploy: HEAD of the checkout in `dir` (plain `tkctl up`), or
 * `options.commit` (`tkctl up --ref`, deployed from a clean temporary worktree of that commit).
 * TK_CI_STATUS speaks for the checked-out commit only (the one the CI job tested), so for another
 * commit only its git note counts.
 */
export function ciStatus(dir: string, env: NodeJS.ProcessEnv = process.env, options: { commit?: string } = {}): CiStatus {
  const head = git(dir, ['rev-parse', 'HEAD']);
  const headCommit = head.ok ? head.out : null;
  const commit = options.commit ?? headCommit;
  if (!commit) return { commit, green: false, detail: `${dir} is not a git checkout with a commit` };
  const isHead = commit === headCommit;
  if (options.commit === undefined) {
    const dirty = git(dir, ['status', '--porcelain', '--untracked-files=no']);
    if (dirty.ok && dirty.out !== '') {
      // Named, since tkctl itself changes a stack file (init's secrets, rollback's pin), which is easy to miss.
      const paths = dirty.out.split('\n').map((entry) => entry.trimStart().replace(/^\S+\s+/, ''));
      const named = `${paths.slice(0, 3).join(', ')}${paths.length > 3 ? ` and ${paths.length - 3} more` : ''}`;
      return { commit, green: false, detail: `the working tree has uncommitted changes (${named}), which CI did not test` };
    }
  }
  const fromEnv = env[CI_STATUS_ENV]?.trim();
  if (fromEnv && isHead) return { commit, green: fromEnv === 'success', detail: `${fromEnv} (${CI_STATUS_ENV})` };
  const ignoredEnv = fromEnv ? `; ${CI_STATUS_ENV} is ignored: it speaks for the checked-out commit ${headCommit?.slice(0, 12) ?? '(none)'}` : '';
  const note = git(dir, ['notes', `--ref=${CI_NOTES_REF}`, 'show', commit]);
  if (!note.ok) return { commit, green: false, detail: `no CI status recorded for ${commit.slice(0, 12)} (no note in refs/notes/${CI_NOTES_REF}; git fetch origin refs/notes/${CI_NOTES_REF}:refs/notes/${CI_NOTES_REF})${ignoredEnv}` };
  const status = note.out.split('\n')[0]!.trim();
  return { commit, green: status === 'success', detail: `${status} (git note refs/notes/${CI_NOTES_REF})${ignoredEnv}` };
}
