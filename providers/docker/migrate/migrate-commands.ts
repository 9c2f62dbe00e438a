import { DeployError } from '../../../components/errors.js';
import { APP_IMAGE_COMMAND, type ReleaseSpec } from '../spec.js';

/**
 * The one-off containers that run `trapperkeeper migrate` from the release image on the stack's
 * private network. The database URL (with its password) goes to docker as `-e TK_DATABASE_URL`
 * with the value in the docker CLI's environment: never on argv.
 */
export type MigrateSpec = Pick<ReleaseSpec, 'prefix' | 'network' | 'image' | 'appEnv'>;

export const DATABASE_URL_ENV = 'TK_DATABASE_URL';

/** Applying migrations may rewrite big tables; the status query is quick. */
export const DEFAULT_MIGRATE_TIMEOUT_MS = 30 * 60_000;
export const DEFAULT_MIGRATE_STATUS_TIMEOUT_MS = 2 * 60_000;

export type MigrateMode = 'status' | 'apply';

/** A host folder mounted read-only, e.g. a migrations folder named by TK_MIGRATIONS_DIR. */
export interface MigrateMount {
  source: string;
  target: string;
}

export interface MigrationRunPlan {
  /** Container name, so a run that outlives its docker CLI can be found. */
  name: string;
  args: string[];
  /** Values for the `-e NAME` passthroughs. */
  env: Record<string, string>;
}

export function planMigrationRun(
  spec: MigrateSpec,
  mode: MigrateMode,
  options: { databaseUrl: string; name: string; mounts?: readonly MigrateMount[] },
): MigrationRunPlan {
  assertUrlNotPlain(spec);
  const envArgs = appEnvArgs(spec);
  const mountArgs = (options.mounts ?? []).flatMap((mount) => ['--volume', `${mount.source}:${mount.target}:ro`]);
  return {
    name: options.name,
    args: [
      'run', '--rm', '--name', options.name, '--network', spec.network,
      '--label', 'org.trapperkeeper.role=migrate', '--label', `org.trapperkeeper.release-id=${spec.image.releaseId}`,
      ...envArgs, '-e', DATABASE_URL_ENV, ...mountArgs,
      spec.image.ref, 'migrate', ...(mode === 'status' ? ['--status', '--json'] : []),
    ],
    env: { [DATABASE_URL_ENV]: options.databaseUrl },
  };
}

/**
 * `migrate --status --json` by `docker exec` in `container`, a running container of the same
 * image on the stack's network: the answer the one-off container would give, without creating,
 * attaching and removing one (about half of the check, more on a busy host). The release's own
 * environment (appEnv, the database URL from the docker CLI's environment) replaces the
 * container's for the command.
 */
export function planStatusInContainer(spec: MigrateSpec, container: string, databaseUrl: string): MigrationRunPlan {
  assertUrlNotPlain(spec);
  const envArgs = appEnvArgs(spec);
  return {
    name: container,
    args: ['exec', ...envArgs, '-e', DATABASE_URL_ENV, container, ...APP_IMAGE_COMMAND, 'migrate', '--status', '--json'],
    env: { [DATABASE_URL_ENV]: databaseUrl },
  };
}

function appEnvArgs(spec: MigrateSpec): string[] {
  return Object.keys(spec.appEnv)
    .sort()
    .flatMap((key) => ['-e', `${key}=${spec.appEnv[key]}`]);
}

function assertUrlNotPlain(spec: MigrateSpec): void {
  if (DATABASE_URL_ENV in spec.appEnv) {
    throw new DeployError(
      `${DATABASE_URL_ENV} is in the app's plain environment (appEnv), where it would be shown on command lines`,
      `move ${DATABASE_URL_ENV} to the stack's secrets (secretEnv) and remove it from appEnv`,
    );
  }
}

/** How a person runs the same command by hand (the URL comes from their environment). */
export function migrateCommandForHumans(spec: MigrateSpec, extra: string): string {
  return `docker run --rm --network ${spec.network} -e ${DATABASE_URL_ENV} ${spec.image.ref} migrate ${extra}`.trimEnd();
}
