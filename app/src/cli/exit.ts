import { UserError, describeUserError } from '../errors.js';

/** Network failures reaching a server: the operator's to fix, not a bug. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

function unreachableServer(error: unknown): UserError | undefined {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string' || !UNREACHABLE_CODES.has(code)) return undefined;
  return new UserError(
    `Cannot reach the database server (${code}): ${(error as Error).message}`,
    'check --db-url / TK_DATABASE_URL (host, port) and that the database server is running',
  );
}

/**
 * The CLI's last word on a failure: a UserError prints what failed and the fix and exits
 * with its code; anything else is a bug and prints its stack.
 */
export function exitWithError(thrown: unknown): never {
  const error = unreachableServer(thrown) ?? thrown;
  if (error instanceof UserError) {
    process.stderr.write(`error: ${describeUserError(error)}\n`);
    process.exit(error.exitCode);
  }
  process.stderr.write(`unexpected error (a bug; please report it): ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(70);
}
