/**
 * The database CA of an AWS stack, for real: a PostgreSQL with TLS on (the local Docker engine,
 * published on 127.0.0.1 only) presents a certificate for 127.0.0.1 signed by a test CA. The
 * template container is what the stack declares (appContainerDefinition, with the URL and CA
 * variables infrastructure.ts sets, the CA being the test one instead of RDS's); the migrate and
 * snapshot tasks are made from it as a release makes them. The app's own connection code (config
 * loading and openConfiguredDatabase, as `trapperkeeper migrate` runs them in the migrate task)
 * and pg_dump (the snapshot task's dump container, run as ECS would) accept the right CA and
 * refuse a wrong one, and a right CA for the wrong name; so does the release image's
 * `trapperkeeper migrate` run as the migrate task (its environment through `docker run -e`).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { TaskDefinition } from '@aws-sdk/client-ecs';
import { openConfiguredDatabase } from '../../app/src/cli/context.js';
import { loadConfig } from '../../app/src/config/load.js';
import { exampleReleasePlan } from '../../components/release/memory-backend.js';
import { DATABASE_CA_ENV } from '../../providers/aws/database/rds-ca.js';
import { appContainerDefinition } from '../../providers/aws/task-template.js';
import { MIGRATE_CONTAINER, migrateTaskDefinition, snapshotTaskDefinition, SNAPSHOT_CONTAINERS, SNAPSHOT_FILE } from '../../providers/aws/tasks/release-tasks.js';
import { ensureAppImage, requireDocker, TEST_IMAGES, uniqueName } from '../support/images.js';
import { REGION, testTarget } from './ecs-stack.js';
import { docker, dockerRun } from './ecs-tasks-on-docker.js';

const TARGET = testTarget();
const PLAN = exampleReleasePlan('1.0.0-aaaaaaa-20261201T100000Z-b00000001+cfg.00000001', { target: { ...TARGET }, secretEnv: [], snapshots: { retentionDays: 7, lockWaitTimeoutMs: 5_000 } });

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA (key and self-signed certificate) named `name`. */
function makeCa(dir: string, name: string): string {
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`);
  return readFileSync(join(dir, `${name}.crt`), 'utf8');
}

/** The task definitions of a stack whose database is at `host:port`, verified against `ca`. */
function releaseTasks(host: string, port: number, ca: string) {
  const container = appContainerDefinition({
    slot: 'blue',
    service: 'sensor-api',
    image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/tk-test/trapperkeeper:1.0.0',
    environment: { TK_DATABASE_URL: `postgres://postgres@${host}:${port}/postgres?sslmode=verify-full`, [DATABASE_CA_ENV]: ca },
    secretArns: {
      'hmac-secret': `arn:aws:secretsmanager:${REGION}:123456789012:secret:tk-test/hmac-secret-AbCdEf`,
      'database-password': `arn:aws:secretsmanager:${REGION}:123456789012:secret:tk-test/database-password-AbCdEf`,
    },
    logGroup: '/trapperkeeper/test/sensor-api',
    region: REGION,
    drainTimeoutMs: 15_000,
  });
  const template = { family: TARGET.services.blue['sensor-api'], containerDefinitions: [container] } as TaskDefinition;
  return { migrate: migrateTaskDefinition(template, PLAN, TARGET), snapshot: snapshotTaskDefinition(template, PLAN, TARGET) };
}

/** The variables the migrate task's app process starts with. */
function envOf(pairs: Array<{ name?: string; value?: string }> | undefined): Record<string, string> {
  return Object.fromEntries((pairs ?? []).map((pair) => [pair.name ?? '', pair.value ?? '']));
}

describe('the database CA on AWS: the app and pg_dump verify PostgreSQL\'s certificate (TLS PostgreSQL on the local Docker engine, a test CA)', { timeout: 300_000 }, () => {
  let dir: string;
  let container: string;
  let port: number;
  let rightCa: string;
  let wrongCa: string;

  before(async () => {
    await requireDocker();
    dir = mkdtempSync(join(tmpdir(), 'tk-database-tls-'));
    rightCa = makeCa(dir, 'test-ca');
    wrongCa = makeCa(dir, 'other-ca');
    openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n');
    openssl(dir, 'x509', '-req', '-in', 'server.csr', '-CA', 'test-ca.crt', '-CAkey', 'test-ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext');
    container = uniqueName('tk-database-tls');
    // PostgreSQL wants its key owned by its own user and unreadable by others.
    const start = [
      'install -o postgres -g postgres -m 600 /certs/server.key /tmp/server.key',
      'install -o postgres -g postgres -m 644 /certs/server.crt /tmp/server.crt',
      'exec docker-entrypoint.sh postgres -c ssl=on -c ssl_cert_file=/tmp/server.crt -c ssl_key_file=/tmp/server.key',
    ].join(' && ');
    const run = await docker(['run', '--detach', '--name', container, '--publish', '127.0.0.1::5432', '--env', 'POSTGRES_HOST_AUTH_METHOD=trust', '--volume', `${dir}:/certs:ro`, '--entrypoint', 'bash', TEST_IMAGES.postgres, '-c', start]);
    assert.equal(run.code, 0, run.output.join('\n'));
    const published = await docker(['port', container, '5432/tcp']);
    port = Number(/127\.0\.0\.1:(\d+)/.exec(published.output.join('\n'))?.[1]);
    assert.ok(port > 0, published.output.join('\n'));
    for (let attempt = 0; ; attempt += 1) {
      // Ready once it answers over TCP (the entrypoint's first start answers on its socket only).
      if ((await docker(['exec', container, 'pg_isready', '-h', '127.0.0.1', '-U', 'postgres'])).code === 0) break;
      if (attempt > 150) assert.fail(`PostgreSQL did not start: ${(await docker(['logs', container])).output.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
  after(async () => {
    if (container) await docker(['rm', '--force', '--volumes', container]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The app as the migrate task starts it: its environment, config loading and database connection. */
  async function appConnects(host: string, ca: string): Promise<boolean> {
    const env = envOf(releaseTasks(host, port, ca).migrate.containerDefinitions![0]!.environment);
    assert.match(env.TK_DATABASE_URL!, /sslmode=verify-full$/);
    const config = loadConfig({ env, cwd: dir, homeDir: dir, etcDir: dir });
    const db = await openConfiguredDatabase(config);
    try {
      const [row] = await db.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      assert.equal(row?.ssl, true, 'the connection is encrypted');
      return true;
    } finally {
      await db.close();
    }
  }

  it('the app connects with the right CA, encrypted, and refuses a wrong CA or a certificate for another name', async () => {
    assert.equal(await appConnects('127.0.0.1', rightCa), true);
    await assert.rejects(appConnects('127.0.0.1', wrongCa), /self[- ]signed certificate|unable to (get local issuer|verify)/);
    // The right CA, but the server is reached as "localhost": its certificate names 127.0.0.1 only.
    await assert.rejects(appConnects('localhost', rightCa), /Hostname\/IP does not match|localhost/);
  });

  /** Secrets Manager as ECS reads it for the task: a valid HMAC secret, a password trust auth ignores. */
  const secrets = {
    send: async (command: { input: { SecretId?: string } }) => ({
      SecretString: command.input.SecretId?.includes('hmac-secret') ? `${'a'.repeat(32)}:${randomBytes(32).toString('base64')}` : 'unused-with-trust-auth',
    }),
  } as unknown as SecretsManagerClient;

  /** The snapshot task's dump container, run as ECS would (the postgres image, host network, a task volume). */
  async function dump(host: string, ca: string): Promise<{ code: number; output: string; file: string }> {
    const definition = releaseTasks(host, port, ca).snapshot.containerDefinitions!.find((c) => c.name === SNAPSHOT_CONTAINERS.dump)!;
    const volume = mkdtempSync(join(dir, 'snapshot-'));
    const name = uniqueName('tk-database-tls-dump');
    const { argv, env } = await dockerRun(definition, { secrets, image: () => TEST_IMAGES.postgres }, { name, environment: [], volumes: [`${volume}:/snapshot`], flags: ['--rm'] });
    const result = await docker(argv, env);
    return { code: result.code, output: result.output.join('\n'), file: join(volume, SNAPSHOT_FILE.replace('/snapshot/', '')) };
  }

  it('pg_dump in the snapshot task verifies the server as the app does: the right CA dumps, a wrong CA or name fails the task', async () => {
    const good = await dump('127.0.0.1', rightCa);
    assert.equal(good.code, 0, good.output);
    assert.ok(existsSync(good.file) && readFileSync(good.file).subarray(0, 5).toString() === 'PGDMP', 'a custom-format archive');
    const wrong = await dump('127.0.0.1', wrongCa);
    assert.notEqual(wrong.code, 0, 'pg_dump trusted a server its CA did not sign');
    assert.match(wrong.output, /certificate verify failed/);
    const misnamed = await dump('localhost', rightCa);
    assert.notEqual(misnamed.code, 0, 'pg_dump accepted a certificate for another name');
    assert.match(misnamed.output, /does not match host name "localhost"/);
  });

  it('the release image\'s `trapperkeeper migrate --status`, run as the migrate task, connects with the right CA and refuses a wrong one', async () => {
    const appImage = ensureAppImage();
    const migrate = async (ca: string) => {
      const definition = releaseTasks('127.0.0.1', port, ca).migrate.containerDefinitions!.find((c) => c.name === MIGRATE_CONTAINER)!;
      const { argv, env } = await dockerRun(definition, { secrets, image: () => appImage }, { name: uniqueName('tk-database-tls-migrate'), environment: [], command: ['migrate', '--status', '--json'], flags: ['--rm'] });
      const result = await docker(argv, env);
      return { code: result.code, output: result.output.join('\n') };
    };
    const right = await migrate(rightCa);
    assert.equal(right.code, 0, right.output);
    assert.ok(Array.isArray(JSON.parse(right.output.split('\n').find((line) => line.startsWith('['))!)), right.output);
    const wrong = await migrate(wrongCa);
    assert.notEqual(wrong.code, 0, 'the app trusted a server its CA did not sign');
    assert.match(wrong.output, /self[- ]signed certificate|unable to (get local issuer|verify)/);
  });
});
