import { randomBytes } from 'node:crypto';
import { planDockerInfrastructure } from '../../../providers/docker/infrastructure-spec.js';
import { dockerConfig } from '../../../providers/docker/testing.js';
import { standUpInfrastructure } from '../../support/docker-infra.js';
import { TEST_IMAGES, testEngine, uniqueName } from '../../support/images.js';

/**
 * The PostgreSQL of a stack of its own for one test file, stood up as `pulumi up` declares it
 * (test/support/docker-infra.ts): its network, its data and snapshot volumes (the snapshot one at
 * SNAPSHOTS_DIR), its health check passed, a random password (given to docker by name, its value
 * in the environment), and `remove()` that deletes every object of the stack.
 */
export interface PostgresFixture {
  container: string;
  network: string;
  user: string;
  database: string;
  password: string;
  /** Runs SQL through psql over the container's local socket; returns unaligned output. */
  psql(sql: string, database?: string): Promise<string>;
  remove(): Promise<void>;
}

export async function startPostgres(): Promise<PostgresFixture> {
  const user = 'tk';
  const database = 'tk';
  const config = dockerConfig(uniqueName('pg'), {
    docker: { images: { postgres: TEST_IMAGES.postgres, caddy: TEST_IMAGES.caddy } },
    database: { name: database, user },
    ephemeral: true,
  });
  const spec = planDockerInfrastructure(config);
  const password = randomBytes(12).toString('hex');
  const infra = await standUpInfrastructure(spec, { secrets: { postgresPassword: password } });
  const container = infra.containers.postgres;

  return {
    container,
    network: infra.network,
    user,
    database,
    password,
    psql: (sql, db = database) =>
      testEngine.run(['exec', '--interactive', container, 'psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', `--username=${user}`, `--dbname=${db}`], {
        input: sql,
      }),
    remove: () => infra.tearDown(),
  };
}
