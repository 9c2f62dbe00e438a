import { DeployError } from '../../components/errors.js';
import type { DockerEngine } from '../../providers/docker/engine.js';
import { countRows, findSnapshot, formatSnapshotTime, restoreSnapshot, swapInRestoredDatabase, takeSnapshot } from '../../providers/docker/snapshot/index.js';
import { slotContainers } from '../../providers/docker/slots/names.js';
import type { ReleaseSpec } from '../../providers/docker/spec.js';
import type { StackState } from '../../providers/docker/stack-status.js';
import { JSON_OPTION, parseCommandArgs } from '../args.js';
import { confirmByTyping } from '../confirm.js';
import { guarded, line, progress, writeJson, type TkctlIo } from '../io.js';
import { stackEvents } from '../stack-events.js';
import { liveCommitOf } from '../../providers/docker/stack-operations.js';
import { chooseStack, requireReleasedSpec, withStackHost, type DockerOnly } from '../stack-target.js';

export const RESTORE_HELP = `Usage: tkctl restore <snapshot> [--stack <name>] [--confirm <stack>] [--json]

Replaces the stack's database with a snapshot (tkctl snapshots list names them). Every write
since the snapshot is lost, so it asks you to type the stack name (or takes --confirm <stack>).
In order:
  1. a safety snapshot of the database as it is now (tkctl restore <it> undoes this restore);
  2. the snapshot's checksum is checked, and it is restored into a new database;
  3. the app containers are stopped (a short outage: nothing may hold a connection), the live
     database is renamed <db>_before_restore_<time> (kept; drop it yourself later) and the
     restored one takes its name; the containers that ran are started again;
  4. the row count of every table is compared with the restored snapshot's; a difference (a
     client still writing, say) exits 1 with the command that undoes the restore.

Options:
  -s, --stack <name>     the stack (default: the selected one)
      --confirm <stack>  the typed confirmation, for scripts
      --json             print the outcome and the row counts
  -h, --help             this text`;

/** Why restore refuses a cloud stack before doing anything, and the provider's own way. */
const RESTORE_ON_CLOUDS = (stack: string, name: string): DockerOnly => ({
  command: 'restore',
  aws: {
    why:
      'a restore on AWS needs the app services stopped and the RDS database swapped, which tkctl does not do (yet); ' +
      'the snapshot is in the S3 bucket, and RDS keeps its own automated backups (aws.database.backupRetentionDays)',
    fix:
      `restore RDS to a point in time (aws rds restore-db-instance-to-point-in-time --source-db-instance-identifier tk-${stack}-postgres --target-db-instance-identifier tk-${stack}-restored --restore-time <UTC time>), ` +
      `or copy the snapshot out (aws s3 cp s3://<bucket>/${name} snapshot.dump) and pg_restore --clean --if-exists --no-owner it from a host that reaches the database`,
  },
  gcp: {
    why:
      'a restore on GCP needs the Cloud Run services stopped and the Cloud SQL database swapped, which tkctl does not do (yet); ' +
      'the snapshot is in the release-state bucket, and Cloud SQL keeps its own backups and point-in-time recovery (gcp.database.backups)',
    fix:
      `restore a Cloud SQL backup (gcloud sql backups list --instance <gcp.database instance>, then gcloud sql backups restore <id> --restore-instance <instance>), ` +
      `or import the snapshot from the bucket (gsutil cp gs://<release-state bucket>/snapshots/${name} snapshot.dump, then pg_restore --clean --if-exists --no-owner through the Cloud SQL Auth Proxy)`,
  },
});

export async function restoreCommand(argv: string[], io: TkctlIo): Promise<number> {
  return guarded(io, async () => {
    const { values, positionals } = parseCommandArgs(argv, { name: 'restore', options: { ...JSON_OPTION, confirm: { type: 'string' } }, positionals: { min: 1, max: 1 } });
    if (values.help) return void line(io.stdout, RESTORE_HELP);
    const name = positionals[0]!;
    const stack = await chooseStack(io, values.stack);
    const outcome = await withStackHost(io, stack, async (engine, state) => {
      const spec = requireReleasedSpec(state, stack);
      const snapshot = await findSnapshot(engine, spec, name);
      await confirmByTyping(io, {
        what: `Restoring ${name} (taken ${snapshot.takenAt.toISOString()}) replaces the database of stack ${stack}; every write since then is lost.`,
        expected: stack,
        ...(values.confirm !== undefined ? { given: values.confirm } : {}),
        retry: `tkctl restore ${name} --stack ${stack}  # and type ${stack} when asked`,
      });
      return restoreOverLive(io, engine, state, spec, name);
    }, RESTORE_ON_CLOUDS(stack, name));
    if (values.json) return void writeJson(io, outcome);
    line(io.stdout, `restored ${outcome.restored} into ${outcome.database}; row counts match the snapshot (${Object.keys(outcome.rowCounts.after).length} tables)`);
    line(io.stdout, `the database as it was is kept as ${outcome.previousDatabase}, and as snapshot ${outcome.safetySnapshot}`);
  });
}

async function restoreOverLive(io: TkctlIo, engine: DockerEngine, state: StackState, spec: ReleaseSpec, name: string) {
  const events = stackEvents(io, spec.stack);
  progress(io, 'taking a safety snapshot of the database as it is now');
  const safety = await takeSnapshot(engine, spec, { commit: liveCommitOf(state), events });
  const stamp = formatSnapshotTime(new Date()).toLowerCase();
  const restoredDb = `${spec.database.name}_restoring_${stamp}`.slice(0, 63);
  const previousDb = `${spec.database.name}_before_restore_${stamp}`.slice(0, 63);
  progress(io, `restoring ${name} into ${restoredDb}`);
  await restoreSnapshot(engine, spec, name, restoredDb, { events });
  const expected = await countRows(engine, spec, restoredDb);
  const before = await countRows(engine, spec, spec.database.name);

  const running = await runningAppContainers(engine, state, spec);
  progress(io, `stopping ${running.length} app container(s) for the swap: ${running.join(', ') || 'none'}`);
  if (running.length > 0) await engine.run(['stop', '--time', '10', ...running]);
  try {
    await swapInRestoredDatabase(engine, spec, restoredDb, previousDb);
  } catch (error) {
    await engine.exec(['exec', spec.database.container, 'dropdb', '--no-password', '--if-exists', `--username=${spec.database.user}`, '--', restoredDb]);
    throw error;
  } finally {
    if (running.length > 0) {
      progress(io, `starting ${running.join(', ')} again`);
      await engine.run(['start', ...running]);
    }
  }
  const after = await countRows(engine, spec, spec.database.name);
  const differences = Object.keys({ ...expected, ...after }).filter((table) => expected[table] !== after[table]);
  if (differences.length > 0) {
    const rows = (count: number | undefined) => (count === undefined ? 'no such table' : `${count} rows`);
    throw new DeployError(
      `After the restore, ${differences.length} table(s) differ from the snapshot: ${differences.map((t) => `${t} has ${rows(after[t])}, the snapshot ${expected[t] ?? 'no such table'}`).join('; ')}. ` +
        `The restored database is live as ${spec.database.name} (the one before is kept as ${previousDb}), but something wrote to the database after the swap ` +
        `(a client tkctl restore does not stop: docker exec ${spec.database.container} psql --username=${spec.database.user} --dbname=postgres -c 'SELECT datname, application_name, client_addr FROM pg_stat_activity' shows who is connected), ` +
        'or the restore is incomplete. Stop that writer, then check the data, or undo the restore',
      `tkctl restore ${safety.name} --stack ${spec.stack}  # the database as it was before this restore`,
    );
  }
  events.emit('snapshot.restored', { snapshot: name, database: spec.database.name, previous: previousDb, safetySnapshot: safety.name });
  return { restored: name, database: spec.database.name, previousDatabase: previousDb, safetySnapshot: safety.name, restarted: running, rowCounts: { before, after } };
}

/** The app containers (both slots) running now: they hold pool connections the rename must not meet. */
async function runningAppContainers(engine: DockerEngine, state: StackState, spec: ReleaseSpec): Promise<string[]> {
  const names = state.records.flatMap((record) => (record ? slotContainers(spec.prefix, record.slot).map((c) => c.name) : []));
  const running: string[] = [];
  for (const name of names) {
    const inspected = await engine.exec(['container', 'inspect', '--format', '{{.State.Running}}', name]);
    if (inspected.exitCode === 0 && inspected.stdout.trim() === 'true') running.push(name);
  }
  return running;
}
