import { DeployError } from '../../../components/errors.js';
import type { DockerEngine } from '../engine.js';
import type { SnapshotSpec } from './snapshot-commands.js';

/**
 * The parts of a restore over the live database that `restoreSnapshot` (which only restores into
 * a new database) leaves to the operator: counting rows to compare before and after, and the
 * swap of the restored database into the live name (restoreInstructions step 3).
 */

/** Exact row counts of every table outside the system schemas, keyed `schema.table`. */
export async function countRows(engine: DockerEngine, spec: SnapshotSpec, database: string): Promise<Record<string, number>> {
  const tables = (await psql(engine, spec, database, "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"))
    .split('\n')
    .filter(Boolean);
  if (tables.length === 0) return {};
  const query = tables.map((table) => `SELECT '${table.replaceAll("'", "''")}', count(*) FROM ${table}`).join(' UNION ALL ');
  const rows = await psql(engine, spec, database, query);
  return Object.fromEntries(
    rows
      .split('\n')
      .filter(Boolean)
      .map((row) => {
        const [table, count] = row.split('\t');
        return [table!.replaceAll('"', ''), Number(count)];
      }),
  );
}

/**
 * Renames the live database to `previousName` and `restoredName` to the live name, in one psql
 * session (nothing may be connected to either: stop the app first).
 */
export async function swapInRestoredDatabase(engine: DockerEngine, spec: SnapshotSpec, restoredName: string, previousName: string): Promise<void> {
  const live = spec.database.name;
  const result = await engine.exec([
    'exec', spec.database.container, 'psql', '--no-password', `--username=${spec.database.user}`, '--dbname=postgres', '--set=ON_ERROR_STOP=1',
    '-c', `ALTER DATABASE "${live}" RENAME TO "${previousName}"`,
    '-c', `ALTER DATABASE "${restoredName}" RENAME TO "${live}"`,
  ]);
  if (result.exitCode !== 0) {
    throw new DeployError(
      `Swapping ${restoredName} in as ${live} failed: ${result.stderr.trim()}`,
      `check that nothing is connected to ${live} (docker exec ${spec.database.container} psql --username=${spec.database.user} --dbname=postgres -c 'SELECT datname, application_name, client_addr FROM pg_stat_activity')`,
    );
  }
}

async function psql(engine: DockerEngine, spec: SnapshotSpec, database: string, query: string): Promise<string> {
  const result = await engine.exec(['exec', spec.database.container, 'psql', '--no-password', `--username=${spec.database.user}`, `--dbname=${database}`, '--no-align', '--tuples-only', '--field-separator=\t', '--set=ON_ERROR_STOP=1', '-c', query]);
  if (result.exitCode !== 0) throw new DeployError(`Query on ${database} failed: ${result.stderr.trim()}`, `check the database container: docker logs ${spec.database.container}`);
  return result.stdout;
}
