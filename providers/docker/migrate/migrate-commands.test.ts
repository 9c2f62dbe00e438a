import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeployError } from '../../../components/errors.js';
import { migrateCommandForHumans, planMigrationRun, planStatusInContainer, type MigrateSpec } from './migrate-commands.js';

const spec: MigrateSpec = {
  prefix: 'tk-dev',
  network: 'tk-dev-net',
  image: { ref: 'trapperkeeper:1.4.0-3f2a9c1d-20261123T101500Z', releaseId: '1.4.0-3f2a9c1d-20261123T101500Z', version: '1.4.0', commit: '3f2a9c1d' },
  appEnv: { TK_LOG_LEVEL: 'info', TK_MIGRATIONS_DIR: '/migrations' },
};
const databaseUrl = 'postgres://tk:s3cr3t-p%40ss@tk-dev-postgres:5432/trapperkeeper';

test('applying runs `trapperkeeper migrate` once in a one-off container on the private network', () => {
  assert.deepEqual(planMigrationRun(spec, 'apply', { databaseUrl, name: 'tk-dev-migrate-1' }), {
    name: 'tk-dev-migrate-1',
    args: [
      'run', '--rm', '--name', 'tk-dev-migrate-1', '--network', 'tk-dev-net',
      '--label', 'org.trapperkeeper.role=migrate', '--label', 'org.trapperkeeper.release-id=1.4.0-3f2a9c1d-20261123T101500Z',
      '-e', 'TK_LOG_LEVEL=info', '-e', 'TK_MIGRATIONS_DIR=/migrations', '-e', 'TK_DATABASE_URL',
      'trapperkeeper:1.4.0-3f2a9c1d-20261123T101500Z', 'migrate',
    ],
    env: { TK_DATABASE_URL: databaseUrl },
  });
});

test('the status query asks for JSON, and mounts are read-only', () => {
  const plan = planMigrationRun(spec, 'status', { databaseUrl, name: 'n', mounts: [{ source: '/tmp/m', target: '/migrations' }] });
  assert.deepEqual(plan.args.slice(-6), ['--volume', '/tmp/m:/migrations:ro', 'trapperkeeper:1.4.0-3f2a9c1d-20261123T101500Z', 'migrate', '--status', '--json']);
});

test('the database URL and its password are never on argv, only in the docker CLI environment', () => {
  for (const mode of ['status', 'apply'] as const) {
    const plan = planMigrationRun(spec, mode, { databaseUrl, name: 'n' });
    for (const arg of plan.args) {
      assert.ok(!arg.includes('s3cr3t') && !arg.includes('postgres://'), arg);
    }
    assert.equal(plan.env.TK_DATABASE_URL, databaseUrl);
  }
  assert.doesNotMatch(migrateCommandForHumans(spec, '--status'), /s3cr3t/);
  const exec = planStatusInContainer(spec, 'tk-dev-blue-web-ui', databaseUrl);
  for (const arg of exec.args) assert.ok(!arg.includes('s3cr3t') && !arg.includes('postgres://'), arg);
  assert.equal(exec.env.TK_DATABASE_URL, databaseUrl);
});

test('the status check in a running container of the same image: the release environment, the image command, JSON', () => {
  const plan = planStatusInContainer(spec, 'tk-dev-blue-web-ui', databaseUrl);
  const container = plan.args.indexOf('tk-dev-blue-web-ui');
  assert.equal(plan.args[0], 'exec');
  assert.deepEqual(plan.args.slice(container - 2, container), ['-e', 'TK_DATABASE_URL']);
  assert.deepEqual(plan.args.slice(container + 1), ['node', '/opt/trapperkeeper/app/bin/trapperkeeper.js', 'migrate', '--status', '--json']);
  for (const [key, value] of Object.entries(spec.appEnv)) assert.ok(plan.args.includes(`${key}=${value}`), `${key} from the release's appEnv`);
});

test('a database URL in the plain app environment is refused', () => {
  assert.throws(
    () => planMigrationRun({ ...spec, appEnv: { TK_DATABASE_URL: databaseUrl } }, 'apply', { databaseUrl, name: 'n' }),
    (error: unknown) => error instanceof DeployError && /move TK_DATABASE_URL to the stack's secrets/.test(error.message),
  );
});

test('the command for a person names the image and network, the URL by variable only', () => {
  assert.equal(
    migrateCommandForHumans(spec, '--resolve 002_x'),
    'docker run --rm --network tk-dev-net -e TK_DATABASE_URL trapperkeeper:1.4.0-3f2a9c1d-20261123T101500Z migrate --resolve 002_x',
  );
});
