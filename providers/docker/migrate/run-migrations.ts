import { randomBytes } from 'node:crypto';
import type { DockerEngine, DockerResult } from '../engine.js';
import { DeployError } from '../../../components/errors.js';
import type { DeployEvents } from '../../../components/events/deploy-events.js';
import {
  DATABASE_URL_ENV,
  DEFAULT_MIGRATE_STATUS_TIMEOUT_MS,
  DEFAULT_MIGRATE_TIMEOUT_MS,
  migrateCommandForHumans,
  planMigrationRun,
  planStatusInContainer,
  type MigrateMode,
  type MigrateMount,
  type MigrateSpec,
} from './migrate-commands.js';
import {
  outputTail,
  parseAppliedMigrations,
  parseFailedMigration,
  parseMigrationStatus,
  summarizeMigrationStatus,
  type PendingMigrations,
} from '../../../components/migrate/migration-status.js';

export interface MigrateOptions {
  /** Where the secret values are read from. @default process.env */
  secrets?: Record<string, string | undefined>;
  /** Read-only mounts for the one-off container (e.g. a migrations folder for TK_MIGRATIONS_DIR). */
  mounts?: readonly MigrateMount[];
  events?: DeployEvents;
  timeoutMs?: number;
}

export interface MigrationRunResult {
  /** Ids applied by this run, in order (empty: the schema was current). */
  applied: string[];
  durationMs: number;
}

/**
 * Which migrations the release image would apply: `migrate --status --json` in a running
 * container of the stack made from the same image when there is one (a config-only release),
 * else in a one-off container.
 */
export async function pendingMigrations(engine: DockerEngine, spec: MigrateSpec, options: MigrateOptions = {}): Promise<PendingMigrations> {
  const running = options.mounts?.length ? undefined : await runningContainerOf(engine, spec);
  let run = running ? await runInContainer(engine, spec, running, options) : undefined;
  // A container that stopped meanwhile (or any exec trouble) leaves the one-off to answer.
  if (!run || run.result.exitCode !== 0 || !parseMigrationStatus(run.result.stdout)) run = await runOneOff(engine, spec, 'status', options, DEFAULT_MIGRATE_STATUS_TIMEOUT_MS);
  const { result, secrets, plan } = run;
  options.events?.logger.debug({ event: 'migrate.status-read', via: plan.name === running ? 'exec' : 'one-off', container: plan.name }, 'migration status read');
  const statuses = result.exitCode === 0 ? parseMigrationStatus(result.stdout) : undefined;
  if (!statuses) {
    throw new DeployError(
      `Cannot read the migration status with ${spec.image.ref} (${exitText(result, plan.name)}):\n  ${indent(outputTail(combined(result), secrets))}`,
      `check that the database runs on network ${spec.network} and that ${DATABASE_URL_ENV} points at it, then try: ${migrateCommandForHumans(spec, '--status')}`,
    );
  }
  return summarizeMigrationStatus(statuses);
}

/**
 * Applies pending migrations once, with `trapperkeeper migrate` from the release image in a
 * one-off container (the app's own migration lock keeps concurrent migrators apart). A failure
 * throws DeployError with the tail of the output and the commands to inspect and resolve it.
 */
export async function runMigrations(engine: DockerEngine, spec: MigrateSpec, options: MigrateOptions = {}): Promise<MigrationRunResult> {
  const started = performance.now();
  const { result, secrets, plan } = await runOneOff(engine, spec, 'apply', options, DEFAULT_MIGRATE_TIMEOUT_MS);
  const output = combined(result);
  if (result.exitCode !== 0) {
    const failed = parseFailedMigration(output);
    options.events?.logger.error({ event: 'migrate.failed', image: spec.image.ref, exitCode: result.exitCode, migration: failed }, 'migration failed');
    throw new DeployError(
      `Database migration failed: \`trapperkeeper migrate\` from ${spec.image.ref} ${exitText(result, plan.name)}:\n  ${indent(outputTail(output, secrets))}`,
      `inspect with \`${migrateCommandForHumans(spec, '--status')}\`; fix the cause, clear the failed record with ` +
        `\`${migrateCommandForHumans(spec, `--resolve ${failed ?? '<id>'}`)}\`, then run the release again ` +
        '(restore the pre-migration snapshot first if the data was damaged)',
    );
  }
  const applied = parseAppliedMigrations(result.stdout) ?? [];
  const durationMs = Math.round(performance.now() - started);
  options.events?.emit('migrated', { ids: applied, image: spec.image.ref, durationMs });
  return { applied, durationMs };
}

/** A running container of the stack (`<prefix>-…`) made from the release's image, if any. */
async function runningContainerOf(engine: DockerEngine, spec: MigrateSpec): Promise<string | undefined> {
  const listed = await engine.exec(['ps', '--filter', 'status=running', '--filter', `ancestor=${spec.image.ref}`, '--filter', `name=^${spec.prefix}-`, '--format', '{{.Names}}']);
  if (listed.exitCode !== 0) return undefined;
  return listed.stdout.split('\n').map((name) => name.trim()).find((name) => name.startsWith(`${spec.prefix}-`));
}

async function runInContainer(engine: DockerEngine, spec: MigrateSpec, container: string, options: MigrateOptions) {
  const databaseUrl = requireDatabaseUrl(options);
  const plan = planStatusInContainer(spec, container, databaseUrl);
  const result = await engine.exec(plan.args, { env: plan.env, timeoutMs: options.timeoutMs ?? DEFAULT_MIGRATE_STATUS_TIMEOUT_MS });
  return { result, secrets: secretForms(databaseUrl), plan };
}

function requireDatabaseUrl(options: MigrateOptions): string {
  const databaseUrl = (options.secrets ?? process.env)[DATABASE_URL_ENV];
  if (!databaseUrl) {
    throw new DeployError(
      `${DATABASE_URL_ENV} is not set in the release's environment, so migrations cannot reach the database`,
      `export ${DATABASE_URL_ENV} (postgres://user:password@<database container>:5432/<db>) from the stack's secrets and run the release again`,
    );
  }
  return databaseUrl;
}

async function runOneOff(
  engine: DockerEngine,
  spec: MigrateSpec,
  mode: MigrateMode,
  options: MigrateOptions,
  defaultTimeoutMs: number,
): Promise<{ result: DockerResult; secrets: string[]; plan: ReturnType<typeof planMigrationRun> }> {
  const databaseUrl = requireDatabaseUrl(options);
  const plan = planMigrationRun(spec, mode, {
    databaseUrl,
    name: `${spec.prefix}-migrate-${randomBytes(4).toString('hex')}`,
    ...(options.mounts ? { mounts: options.mounts } : {}),
  });
  const result = await engine.exec(plan.args, { env: plan.env, timeoutMs: options.timeoutMs ?? defaultTimeoutMs });
  return { result, secrets: secretForms(databaseUrl), plan };
}

/** The URL and its password, as written and decoded, for blanking in output. */
function secretForms(databaseUrl: string): string[] {
  const forms = [databaseUrl];
  try {
    const password = new URL(databaseUrl).password;
    if (password) forms.push(password, decodeURIComponent(password));
  } catch {
    // Not a URL the WHATWG parser accepts; the whole value is still blanked.
  }
  return forms;
}

function exitText(result: DockerResult, container: string): string {
  if (/killed by SIGKILL/.test(result.stderr)) {
    return `timed out; container ${container} may still be running (docker logs -f ${container})`;
  }
  return `exited with ${result.exitCode}`;
}

function combined(result: DockerResult): string {
  return [result.stdout.trim(), result.stderr.trim()].filter(Boolean).join('\n');
}

function indent(text: string): string {
  return text.split('\n').join('\n  ');
}
