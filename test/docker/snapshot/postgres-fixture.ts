import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TEST_IMAGES, testEngine, uniqueName } from '../../support/images.js';

/**
 * A PostgreSQL container of its own for one test file: a private network, snapshot volumes
 * mounted at `snapshotDirs`, a random password (given to docker by name, its value in the
 * environment), and `remove()` that deletes every object it created.
 */
export interface PostgresFixture {
  container: string;
  network: string;
  user: string;
  database: string;
  password: string;
  snapshotDirs: string[];
  /** Runs SQL through psql over the container's local socket; returns unaligned output. */
  psql(sql: string, database?: string): Promise<string>;
  remove(): Promise<void>;
}

export async function startPostgres(options: { snapshotDirs?: string[] } = {}): Promise<PostgresFixture> {
  const base = uniqueName('tk-test-pg');
  const container = `${base}-db`;
  const network = `${base}-net`;
  const snapshotDirs = options.snapshotDirs ?? [];
  const volumes = snapshotDirs.map((_, index) => `${base}-snapshots-${index}`);
  const password = randomBytes(12).toString('hex');
  const user = 'tk';
  const database = 'tk';

  const remove = async (): Promise<void> => {
    await testEngine.exec(['container', 'rm', '--force', '--volumes', container]);
    for (const volume of volumes) await testEngine.exec(['volume', 'rm', '--force', volume]);
    await testEngine.exec(['network', 'rm', network]);
  };

  try {
    await testEngine.run(['network', 'create', network]);
    await testEngine.run(
      [
        'run', '--detach', '--name', container, '--network', network,
        '-e', 'POSTGRES_PASSWORD', '-e', `POSTGRES_USER=${user}`, '-e', `POSTGRES_DB=${database}`,
        ...snapshotDirs.flatMap((dir, index) => ['--volume', `${volumes[index]}:${dir}`]),
        TEST_IMAGES.postgres,
      ],
      { env: { POSTGRES_PASSWORD: password } },
    );
    await waitUntilReady(container, user, database);
  } catch (error) {
    await remove();
    throw error;
  }

  return {
    container,
    network,
    user,
    database,
    password,
    snapshotDirs,
    psql: (sql, db = database) =>
      testEngine.run(['exec', '--interactive', container, 'psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', `--username=${user}`, `--dbname=${db}`], {
        input: sql,
      }),
    remove,
  };
}

/** Over TCP inside the container: the entrypoint's init server listens on the socket only. */
async function waitUntilReady(container: string, user: string, database: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const result = await testEngine.exec(['exec', container, 'pg_isready', '--host=127.0.0.1', `--username=${user}`, `--dbname=${database}`]);
    if (result.exitCode === 0) return;
    if (Date.now() > deadline) {
      const logs = await testEngine.exec(['logs', '--tail', '30', container]);
      throw new Error(`PostgreSQL in ${container} did not become ready:\n${logs.stdout}${logs.stderr}`);
    }
    await sleep(300);
  }
}
