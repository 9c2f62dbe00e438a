/**
 * A deployment failure a person can act on: what failed, why, and the command that fixes it.
 * `pulumi up` shows the message; the release CLI prints it and exits non-zero. Anything else
 * that escapes is a bug in the toolkit.
 */
export class DeployError extends Error {
  /** What failed and why, without the fix. */
  readonly problem: string;

  constructor(
    problem: string,
    readonly fix?: string,
  ) {
    super(fix ? `${problem}\n  fix: ${fix}` : problem);
    this.name = 'DeployError';
    this.problem = problem;
  }
}
