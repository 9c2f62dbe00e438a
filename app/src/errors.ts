/**
 * An error a person can fix: bad config, a refused operation, a missing migration.
 * `message` says what failed and why; `fix` says what to do (often a command).
 * The CLI prints both and exits non-zero; anything else reaching the top is a bug.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly fix?: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export function describeUserError(error: UserError): string {
  return error.fix ? `${error.message}\n  fix: ${error.fix}` : error.message;
}
