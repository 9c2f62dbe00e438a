/**
 * How the release CLI (providers/release-cli.ts) is started, from the project folder: by
 * `pulumi up` (the release command) and by a person (status, lock break). Node and the compile
 * cache (launcher/compile-cache.mjs, esbuild), both runtime dependencies, so an install without
 * dev dependencies still deploys, and no `npx` or loader-hook start-up on every release.
 */
export const RELEASE_CLI = 'node launcher/release-cli.mjs';

/** The release CLI with a command and its arguments: `node launcher/release-cli.mjs status --stack dev`. */
export function releaseCli(...args: string[]): string {
  return [RELEASE_CLI, ...args].join(' ');
}

/** The environment variable the release CLI reads its release plan (JSON, components/release/plan.ts) from. */
export const RELEASE_PLAN_ENV = 'TK_RELEASE_PLAN';
/** Set by `pulumi up` when the stack pins a kept release (`release.rollbackTo`): `deploy` makes that one live. */
export const ROLLBACK_TO_ENV = 'TK_ROLLBACK_TO';
