/**
 * The release CLI's `deploy`: one release (or, with TK_ROLLBACK_TO, the rollback to a kept
 * release) from the environment `pulumi up` gives the release command. The release CLI runs it
 * in its own process; `tkctl rollback` runs it in its process with the environment recorded in
 * the stack's state, which saves a Node start-up while traffic waits.
 */
import { join } from 'node:path';
import { DeployError } from '../components/errors.js';
import { createDeployEvents, DEPLOY_EVENTS_FILE_ENV, DEPLOY_EVENTS_FORMAT_ENV, type DeployEvents } from '../components/events/deploy-events.js';
import { startNotifications } from '../components/notifications/index.js';
import { runRelease, type ReleaseOutcome } from '../components/release/pipeline.js';
import { parseReleasePlan, type ReleasePlan } from '../components/release/plan.js';
import { RELEASE_PLAN_ENV, ROLLBACK_TO_ENV } from './release-command-line.js';
import { targetRuntime } from './target-runtimes.js';

/** Where `deploy` and `destroy` append their events as JSON lines, unless TK_DEPLOY_EVENTS_FILE says. */
export const EVENTS_DIR = '.trapperkeeper/events';

export type ReleaseEnvironment = Readonly<Record<string, string | undefined>>;

export function planFromEnvironment(env: ReleaseEnvironment): ReleasePlan {
  const text = env[RELEASE_PLAN_ENV];
  const fix = 'run this through `pulumi up`, which sets it from the stack config';
  if (!text) throw new DeployError(`${RELEASE_PLAN_ENV} is not set`, fix);
  return parseReleasePlan(text, { source: RELEASE_PLAN_ENV, fix });
}

export interface DeployOptions {
  /** Where the progress lines go. @default process.stderr */
  progress?: NodeJS.WritableStream;
  /** The project folder, which holds EVENTS_DIR. @default the working directory */
  dir?: string;
}

/** The events of `deploy` and `destroy`: progress lines, and every event appended to TK_DEPLOY_EVENTS_FILE (default EVENTS_DIR/<stack>.jsonl). */
export function releaseEvents(plan: ReleasePlan, env: ReleaseEnvironment, options: DeployOptions = {}): DeployEvents {
  return createDeployEvents({
    jsonFile: env[DEPLOY_EVENTS_FILE_ENV] || join(options.dir ?? '.', EVENTS_DIR, `${plan.stack}.jsonl`),
    format: env[DEPLOY_EVENTS_FORMAT_ENV] === 'json' ? 'json' : 'human',
    ...(options.progress ? { destination: options.progress } : {}),
  });
}

/** Runs the release of TK_RELEASE_PLAN in `env` (its secrets, TK_ROLLBACK_TO and TK_NOTIFY from there too). */
export async function deployFromEnvironment(env: ReleaseEnvironment, options: DeployOptions = {}): Promise<ReleaseOutcome> {
  const plan = planFromEnvironment(env);
  const events = releaseEvents(plan, env, options);
  const rollbackTo = env[ROLLBACK_TO_ENV] || undefined;
  // Sinks of TK_NOTIFY; a failing one never fails the release, and flush() is bounded.
  const notifications = startNotifications(events, { stack: plan.stack, release: rollbackTo ?? plan.image.releaseId }, env);
  const runtime = await targetRuntime(plan);
  return runtime
    .withBackend(plan, (backend) => runRelease(plan, backend, { events, secrets: { ...env }, ...(rollbackTo ? { rollback: { to: rollbackTo, pinned: true } } : {}) }), events)
    .finally(() => notifications.flush());
}
