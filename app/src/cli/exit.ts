import { UserError, describeUserError } from '../errors.js';

/**
 * The CLI's last word on a failure: a UserError prints what failed and the fix and exits
 * with its code; anything else is a bug and prints its stack.
 */
export function exitWithError(error: unknown): never {
  if (error instanceof UserError) {
    process.stderr.write(`error: ${describeUserError(error)}\n`);
    process.exit(error.exitCode);
  }
  process.stderr.write(`unexpected error (a bug; please report it): ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(70);
}
