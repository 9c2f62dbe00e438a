/**
 * The release CLI: what `pulumi up` runs (through the `release` local.Command) and what a person
 * runs to look at a stack's releases and lock.
 *
 *   deploy                    run a release; its plan in TK_RELEASE_PLAN, secrets in TK_DATABASE_URL / TK_HMAC_SECRET;
 *                             with TK_ROLLBACK_TO (the stack's release.rollbackTo) make that kept release live instead;
 *                             with TK_NOTIFY (the stack's notifications.*) its events also go to those sinks
 *   destroy                   before `pulumi destroy` removes the stack: remove both slots (final snapshot when ephemeral)
 *   status --stack S          live and parked releases, latest snapshot, lock
 *   lock status|break --stack S
 *
 * Rollback goes through `pulumi up` (`pulumi config set --path release.rollbackTo <release>`), so
 * the stack's outputs always tell the release that serves. `deploy` and `destroy` print one line
 * per step on stderr (TK_DEPLOY_EVENTS=json: JSON lines) and append every event as JSON to
 * TK_DEPLOY_EVENTS_FILE (default .trapperkeeper/events/<stack>.jsonl); stdout carries only the
 * summary line the stack outputs are read from.
 *
 * `--stack` commands find the stack's target in Pulumi.<stack>.yaml and act through its
 * StackOperations (providers/stack-operations.ts): an AWS stack (provider aws) through the AWS
 * SDK's default credentials and the file's aws.region; a GCP stack (provider gcp) through Cloud
 * Run and its release-state bucket with Application Default Credentials (status adds the revision
 * serving each service); any other stack from its Docker host: --docker-host, else the file's
 * trapperkeeper:docker.host, else DOCKER_HOST, else the local engine.
 */
import { parseArgs } from 'node:util';
import { DeployError } from '../components/errors.js';
import { createDeployEvents } from '../components/events/deploy-events.js';
import { withStackOperations } from './open-stack.js';
import { deployFromEnvironment, planFromEnvironment, releaseEvents } from './release-deploy.js';
import type { StackTargetOptions } from './stack-operations.js';
import { targetRuntime } from './target-runtimes.js';

const USAGE = `Usage: node launcher/release-cli.mjs <command> (tkctl is the operator's CLI; this is the release process pulumi up runs)
  deploy                        run the release of TK_RELEASE_PLAN (set by pulumi up)
  destroy                       before pulumi destroy: the target's part (an ephemeral stack's final snapshot first)
  status --stack S              live and parked releases, latest snapshot, lock (JSON)
  lock status|break --stack S   the deploy lock; break takes --reason
  --docker-host URL             the Docker host of status and lock (default: DOCKER_HOST, then Pulumi.<stack>.yaml)
                                (an aws or gcp stack in Pulumi.<stack>.yaml is read from its cloud's APIs instead)`;

function stackTarget(dockerHost: string | undefined): StackTargetOptions {
  return dockerHost ? { dockerHost } : {};
}

function requireStack(stack: string | undefined): string {
  if (!stack) throw new DeployError('--stack is required', 'name the Pulumi stack, e.g. --stack dev');
  return stack;
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      stack: { type: 'string' },
      'docker-host': { type: 'string' },
      reason: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, subcommand] = positionals;
  if (values.help || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }

  switch (command) {
    case 'deploy': {
      const outcome = await deployFromEnvironment(process.env);
      if (outcome.migrationWarning) process.stderr.write(`\nwarning: ${outcome.migrationWarning}\n\n`);
      const { liveSlot, liveRelease, previousRelease, latestSnapshot: latest } = outcome;
      process.stdout.write(`${JSON.stringify({ liveSlot, liveRelease, previousRelease, latestSnapshot: latest })}\n`);
      return;
    }
    case 'destroy': {
      const plan = planFromEnvironment(process.env);
      await (await targetRuntime(plan)).destroy(plan, releaseEvents(plan, process.env));
      return;
    }
    case 'status': {
      const stack = requireStack(values.stack);
      await withStackOperations(stack, stackTarget(values['docker-host']), async (operations) => {
        process.stdout.write(`${JSON.stringify(await operations.report())}\n`);
      });
      return;
    }
    case 'lock': {
      const stack = requireStack(values.stack);
      await withStackOperations(stack, stackTarget(values['docker-host']), async (operations) => {
        if (subcommand === 'break') {
          await operations.breakLock({ events: createDeployEvents(), by: process.env.USER ?? 'unknown', ...(values.reason ? { reason: values.reason } : {}) });
          return;
        }
        process.stdout.write(`${await operations.lockStatus()}\n`);
      });
      return;
    }
    default:
      throw new DeployError(
        `Unknown command "${command ?? ''}"`,
        'use one of: deploy, destroy, status --stack S, lock status|break --stack S; --help lists them (roll back with `tkctl rollback`, or `pulumi config set --path release.rollbackTo <release>` and `pulumi up`)',
      );
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof DeployError) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`unexpected error (a bug in the toolkit): ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(70);
});
