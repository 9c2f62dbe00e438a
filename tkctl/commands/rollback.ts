import { DeployError } from '../../components/errors.js';
import { JSON_OPTION, parseCommandArgs } from '../args.js';
import { guarded, line, progress, writeJson, type TkctlIo } from '../io.js';
import { findPulumiCli, openProject, pulumiError, selectedStackName, selectExistingStack } from '../pulumi-workspace.js';
import { ciStatus } from '../ci-status.js';
import { appendDeployment } from '../deploy-history.js';
import { operator, recordedRun } from '../pulumi-run.js';
import { loadReleaseDeploy, readRecordedStack, rollBackWithRecordedRelease } from '../recorded-release.js';

export const ROLLBACK_HELP = `Usage: tkctl rollback [--to <release>] [--stack <name>] [--json]
       tkctl rollback --clear [--stack <name>]

Makes a kept release live again: --to <release>, or the previous release (the previousVersion
stack output). Traffic moves first, in seconds: the release \`pulumi up\` last ran (its
environment read from the stack's state) runs again with that release pinned, through the same gate,
switch and verification, without migrations. Then the rollback is recorded: release.rollbackTo
is pinned and \`pulumi up\` runs, so the stack outputs always name what serves (README "What
pulumi up does", item 3). If the database was migrated since that release, the output says
how to restore the snapshot (tkctl restore). No CI check: a rollback goes back to something
that ran.
--clear removes the pin (no up): the next tkctl up releases the checked-out commit again.

Options:
  -s, --stack <name>  the stack (default: the selected one)
      --to <release>  the release id to serve (tkctl status lists live and previous)
      --clear         remove the pin instead
      --json          print {"stack", "to", "result", "switchedMs", "durationMs", "release"}
                      (switchedMs: until traffic was verified on the release; durationMs: until recorded)
  -h, --help          this text`;

const PIN_KEY = 'release.rollbackTo';

export async function rollbackCommand(argv: string[], io: TkctlIo): Promise<number> {
  return guarded(io, async () => {
    const started = performance.now();
    const { values } = parseCommandArgs(argv, { name: 'rollback', options: { ...JSON_OPTION, to: { type: 'string' }, clear: { type: 'boolean' } } });
    if (values.help) return void line(io.stdout, ROLLBACK_HELP);
    if (values.clear && values.to) throw new DeployError('--clear and --to exclude each other', 'tkctl rollback --to <release>, or tkctl rollback --clear');
    if (values.clear) return clearPin(io, values.stack, values.json === true);

    // Traffic first, with the CLI alone: the Automation API loads while nobody waits on it.
    const cli = findPulumiCli();
    const stackName = values.stack ?? selectedStackName(cli, io.cwd);
    if (!stackName) throw new DeployError('No stack selected and no --stack given', 'pass --stack <name>, or pulumi stack select <name>');
    void loadReleaseDeploy().catch(() => undefined); // loads while the CLI reads the state; awaited (and any error met) below
    const recorded = await readRecordedStack(cli, io.cwd, stackName);
    const to = values.to ?? previousRelease(recorded.outputs, stackName);
    let switchedMs: number | null = null;
    if (recorded.release) {
      progress(io, `rolling back stack ${stackName} to ${to}: moving traffic with the release command pulumi up last ran`);
      const startedAt = new Date();
      const summary = await rollBackWithRecordedRelease(io, recorded.release, to, stackName).catch((error: unknown) => {
        recordFailedRollback(io, stackName, startedAt, Math.round(performance.now() - started), error);
        throw error;
      });
      switchedMs = Math.round(performance.now() - started);
      progress(io, `traffic on ${summary.liveRelease} (${summary.liveSlot} slot), verified, ${(switchedMs / 1000).toFixed(1)} s after tkctl started; recording the rollback in the stack`);
    } else {
      progress(io, `stack ${stackName} records no release command (no release since this toolkit version): the rollback runs through pulumi up alone`);
    }

    const stack = await selectExistingStack(await openProject(io.cwd), stackName);
    progress(io, `pinning ${PIN_KEY}=${to} and running pulumi up --stack ${stackName}`);
    await stack.setConfig(PIN_KEY, { value: to, secret: false }, true).catch((error: unknown) => {
      throw pulumiError(
        `Cannot set ${PIN_KEY}${switchedMs !== null ? ` (traffic is already on ${to}; the stack outputs still name the release before)` : ''}`,
        error,
        `tkctl rollback --to ${to} --stack ${stackName} (again: with ${to} live, it only records it)`,
      );
    });
    const run = await recordedRun(io, stack, stackName, 'rollback');
    if (values.json) return void writeJson(io, { stack: stackName, to, result: run.result, switchedMs, durationMs: run.durationMs, release: run.release });
    line(
      io.stdout,
      `stack ${stackName} rolled back: live ${run.release ?? to}` +
        (switchedMs !== null ? ` (traffic moved in ${(switchedMs / 1000).toFixed(1)} s, recorded in ${((performance.now() - started) / 1000).toFixed(1)} s)` : '') +
        `; tkctl rollback --clear --stack ${stackName} releases the current commit again on the next up`,
    );
  });
}

/** A rollback that failed before `pulumi up` (which records its own runs) still goes into the history. */
function recordFailedRollback(io: TkctlIo, stackName: string, startedAt: Date, durationMs: number, error: unknown): void {
  appendDeployment(io.cwd, {
    command: 'rollback',
    stack: stackName,
    by: operator(),
    startedAt: startedAt.toISOString(),
    durationMs,
    result: 'failed',
    commit: ciStatus(io.cwd).commit,
    release: null,
    error: (error as Error).message,
  });
}

/** The previousVersion output: what the last release replaced. */
function previousRelease(outputs: Record<string, unknown>, stackName: string): string {
  const previous = outputs.previousVersion;
  if (typeof previous !== 'string' || !previous) {
    throw new DeployError(`Stack ${stackName} has no previous release to roll back to`, `tkctl status --stack ${stackName} lists the kept releases; tkctl rollback --to <release>`);
  }
  return previous;
}

async function clearPin(io: TkctlIo, requested: string | undefined, json: boolean): Promise<void> {
  const project = await openProject(io.cwd);
  const stackName = requested ?? selectedStackName(project.cli, io.cwd);
  if (!stackName) throw new DeployError('No stack selected and no --stack given', 'pass --stack <name>, or pulumi stack select <name>');
  const stack = await selectExistingStack(project, stackName);
  await stack.removeConfig(PIN_KEY, true).catch((error: unknown) => {
    throw pulumiError(`Cannot remove ${PIN_KEY}`, error, `pulumi config --stack ${stackName} shows the config; check PULUMI_CONFIG_PASSPHRASE`);
  });
  if (json) return void writeJson(io, { stack: stackName, cleared: true });
  line(io.stdout, `${PIN_KEY} removed from stack ${stackName}: the next tkctl up releases the checked-out commit`);
}
