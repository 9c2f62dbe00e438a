/**
 * A deployment failure a person can act on: what failed, why, and the command that fixes it.
 * `pulumi up` shows the message; the release CLI prints it and exits non-zero. Anything else
 * that escapes is a bug in the toolkit.
 */
export class DeployError extends Error {
  constructor(
    message: string,
    readonly fix?: string,
  ) {
    super(fix ? `${message}\n  fix: ${fix}` : message);
    this.name = 'DeployError';
  }
}
