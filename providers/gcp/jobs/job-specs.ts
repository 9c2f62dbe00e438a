import type { GcpPlanTarget } from '../plan-target.js';

/**
 * The stack's two Cloud Run jobs as plain data, shared by the program that declares them
 * (GcpTarget) and the release that runs them (cloud-run-job.ts): `migrate` runs the app's
 * `migrate` command (the migrations, the migration status) with the release's image; `pg-dump`
 * dumps the database with the snapshot image. Cloud Run keeps no output of an execution but its
 * logs, so each task writes what the release reads into the release-state bucket, mounted at
 * STATE_MOUNT, under `$TK_JOB_OUTPUT`.
 *
 * An execution can override a container's args and env but not its command or image, so the
 * command is a fixed wrapper and everything per run comes as args (the app's subcommand,
 * pg_dump's lock wait) and TK_JOB_OUTPUT; the image is the job's template, which `pulumi up` sets
 * to the commit it releases and the release sets only when it runs another.
 */
export type GcpJobKind = 'migrate' | 'pgDump';

export interface GcpJobSpec {
  kind: GcpJobKind;
  /** `tk-<stack>-migrate`, `tk-<stack>-pg-dump`. */
  name: string;
  /** The container's name: what an execution's containerOverrides refer to. */
  container: string;
  command: string[];
  /** The args of a run without overrides (`gcloud run jobs execute`); the release always passes its own. */
  defaultArgs: string[];
  /** The task's timeout as declared; each release execution sets its own. */
  timeoutSeconds: number;
  /** The secret variables its task gets (Secret Manager references, as the services'): pg_dump needs only the password. */
  secretEnv: string[];
}

/** Where a job's task finds the release-state bucket (a Cloud Storage volume). */
export const STATE_MOUNT = '/release-state';
export const STATE_VOLUME = 'release-state';
/** The variable naming the folder (in the bucket) a task writes its output under. */
export const JOB_OUTPUT_ENV = 'TK_JOB_OUTPUT';

/** The app's entry point in its image (app/Dockerfile's ENTRYPOINT). */
export const APP_ENTRYPOINT = 'node /opt/trapperkeeper/app/bin/trapperkeeper.js';
export const JOB_TIMEOUT_SECONDS = { status: 300, migrate: 3600, dump: 3600 } as const;

// The app's output is kept for the release and still printed for Cloud Logging; the exit code is the app's.
const APP_JOB_SCRIPT = `set -u; ${APP_ENTRYPOINT} "$@" > /tmp/output 2>&1; code=$?; cat /tmp/output; mkdir -p "$${JOB_OUTPUT_ENV}" && cp /tmp/output "$${JOB_OUTPUT_ENV}/output"; exit $code`;

// The checksum is computed where the dump was made; the release reads the dump back and compares.
const PG_DUMP_SCRIPT = [
  'set -eu',
  'export PGPASSWORD="${TK_DATABASE_PASSWORD:-}"',
  'pg_dump --format=custom --no-owner "$@" --dbname="$TK_DATABASE_URL" --file=/tmp/snapshot.dump',
  'sha256sum /tmp/snapshot.dump | cut -d" " -f1 > /tmp/snapshot.dump.sha256',
  `mkdir -p "$${JOB_OUTPUT_ENV}"`,
  `cp /tmp/snapshot.dump "$${JOB_OUTPUT_ENV}/snapshot.dump"`,
  `cp /tmp/snapshot.dump.sha256 "$${JOB_OUTPUT_ENV}/snapshot.dump.sha256"`,
].join('\n');

/** pg_dump's arguments for a snapshot run: how long it waits for a table lock before it fails. */
export function pgDumpArgs(lockWaitTimeoutMs: number): string[] {
  return [`--lock-wait-timeout=${lockWaitTimeoutMs}`];
}

/** The stack's jobs, named after its services' prefix (`tk-<stack>`). */
export function gcpJobSpecs(target: Pick<GcpPlanTarget, 'services'>): Record<GcpJobKind, GcpJobSpec> {
  const prefix = target.services['web-ui'].replace(/-web-ui$/, '');
  return {
    // `sh -c <script> <$0> <args...>`: the args reach the app (or pg_dump) as "$@".
    migrate: { kind: 'migrate', name: `${prefix}-migrate`, container: 'migrate', command: ['sh', '-c', APP_JOB_SCRIPT, 'migrate'], defaultArgs: ['migrate', '--status'], timeoutSeconds: JOB_TIMEOUT_SECONDS.migrate, secretEnv: ['TK_HMAC_SECRET', 'TK_DATABASE_PASSWORD'] },
    pgDump: { kind: 'pgDump', name: `${prefix}-pg-dump`, container: 'pg-dump', command: ['sh', '-c', PG_DUMP_SCRIPT, 'pg-dump'], defaultArgs: [], timeoutSeconds: JOB_TIMEOUT_SECONDS.dump, secretEnv: ['TK_DATABASE_PASSWORD'] },
  };
}
