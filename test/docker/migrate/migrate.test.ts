import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { DeployError } from '../../../components/errors.js';
import { createDeployEvents } from '../../../components/events/deploy-events.js';
import { pendingMigrations, runMigrations, type MigrateSpec } from '../../../providers/docker/migrate/index.js';
import { REPO_ROOT, ensureAppImage, requireDocker, testEngine } from '../../support/images.js';
import { startPostgres, type PostgresFixture } from '../snapshot/postgres-fixture.js';

let pg: PostgresFixture;
let spec: MigrateSpec;
let migrationsDir: string;

function databaseUrl(database: string): string {
  return `postgres://${pg.user}:${pg.password}@${pg.container}:5432/${database}`;
}

before(async () => {
  await requireDocker();
  const image = ensureAppImage();
  pg = await startPostgres();
  spec = {
    prefix: pg.container,
    network: pg.network,
    image: { ref: image, releaseId: 'test-release', version: '0.0.0-test', commit: 'test' },
    appEnv: { TK_LOG_LEVEL: 'info' },
  };
  // Readable by the app's unprivileged user inside the container.
  migrationsDir = mkdtempSync(join(tmpdir(), 'tk-test-migrations-'));
  chmodSync(migrationsDir, 0o755);
});

after(async () => {
  await pg?.remove();
  if (migrationsDir) rmSync(migrationsDir, { recursive: true, force: true });
});

describe('migrations in a one-off container against a real PostgreSQL', () => {
  test('a fresh database has pending migrations; migrate applies them; then nothing is pending', async () => {
    const secrets = { TK_DATABASE_URL: databaseUrl(pg.database) };
    const before = await pendingMigrations(testEngine, spec, { secrets });
    assert.deepEqual(before.pending, ['001_initial']);
    assert.deepEqual([before.failed, before.changed, before.running], [[], [], []]);

    const lines: string[] = [];
    const events = createDeployEvents({
      format: 'json',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString('utf8'));
          done();
        },
      }),
    });
    const result = await runMigrations(testEngine, spec, { secrets, events });
    assert.deepEqual(result.applied, ['001_initial']);
    const migrated = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.event === 'migrated');
    assert.deepEqual(migrated?.ids, ['001_initial']);
    assert.ok(!lines.join('').includes(pg.password), 'no event carries the database password');

    const afterwards = await pendingMigrations(testEngine, spec, { secrets });
    assert.deepEqual(afterwards.pending, []);
    assert.deepEqual(afterwards.statuses.map((entry) => [entry.id, entry.status]), [['001_initial', 'applied']]);
    assert.deepEqual((await runMigrations(testEngine, spec, { secrets })).applied, [], 'a second run applies nothing');
    assert.equal((await pg.psql("SELECT name FROM tenants WHERE name = 'default';")).trim(), 'default');
  });

  test('a broken migration fails the run with its error, the fix, and no secret in the message', async () => {
    await pg.psql('CREATE DATABASE tk_broken;');
    const folder = join(migrationsDir, 'postgres');
    mkdirSync(folder, { mode: 0o755 });
    writeFileSync(join(folder, '001_initial.sql'), readFileSync(join(REPO_ROOT, 'migrations/postgres/001_initial.sql')), { mode: 0o644 });
    writeFileSync(join(folder, '002_broken.sql'), 'CREATE TABLE broken_probe (id int);\nSELECT no_such_column FROM no_such_table;\n', { mode: 0o644 });
    const brokenSpec: MigrateSpec = { ...spec, appEnv: { ...spec.appEnv, TK_MIGRATIONS_DIR: '/migrations' } };
    const options = { secrets: { TK_DATABASE_URL: databaseUrl('tk_broken') }, mounts: [{ source: migrationsDir, target: '/migrations' }] };

    assert.deepEqual((await pendingMigrations(testEngine, brokenSpec, options)).pending, ['001_initial', '002_broken']);
    const failure = await runMigrations(testEngine, brokenSpec, options).then(
      () => assert.fail('a broken migration must fail the run'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof DeployError);
    assert.match(failure.message, /^Database migration failed: `trapperkeeper migrate` from trapperkeeper:\S+ exited with \d+:/);
    assert.match(failure.message, /Migration 002_broken failed: .*no_such_table/);
    assert.match(failure.message, /fix: inspect with `docker run --rm --network \S+ -e TK_DATABASE_URL \S+ migrate --status`/);
    assert.match(failure.message, /migrate --resolve 002_broken`/);
    assert.ok(!failure.message.includes(pg.password), 'the password never reaches the error');

    const status = await pendingMigrations(testEngine, brokenSpec, options);
    assert.deepEqual([status.pending, status.failed], [[], ['002_broken']]);
    assert.equal((await pg.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'broken_probe';", 'tk_broken')).trim(), '0');
  });

  test("with a running container of the release's image on the stack, the status is read there (docker exec), not in a one-off container", async () => {
    const secrets = { TK_DATABASE_URL: databaseUrl(pg.database) };
    // Stands for the live slot of a config-only release: same image, the stack's name prefix, no database URL of its own.
    const live = `${spec.prefix}-blue-web-ui`;
    await testEngine.run(['run', '-d', '--name', live, '--network', spec.network, '--entrypoint', 'node', spec.image.ref, '-e', 'setInterval(() => {}, 1 << 30)']);
    try {
      const reads: Record<string, unknown>[] = [];
      const events = createDeployEvents({
        format: 'json',
        level: 'debug',
        destination: new Writable({
          write(chunk: Buffer, _encoding, done) {
            const line = JSON.parse(chunk.toString('utf8')) as Record<string, unknown>;
            if (line.event === 'migrate.status-read') reads.push(line);
            done();
          },
        }),
      });
      const status = await pendingMigrations(testEngine, spec, { secrets, events });
      assert.deepEqual(status.statuses.map((entry) => [entry.id, entry.status]), [['001_initial', 'applied']]);
      assert.deepEqual(reads.map((read) => [read.via, read.container]), [['exec', live]]);

      // Gone by the time of the check: the one-off container answers instead.
      await testEngine.run(['rm', '-f', live]);
      reads.length = 0;
      assert.deepEqual((await pendingMigrations(testEngine, spec, { secrets, events })).pending, []);
      assert.deepEqual(reads.map((read) => read.via), ['one-off']);
    } finally {
      await testEngine.exec(['rm', '-f', live]);
    }
  });

  test('a missing database URL is refused before any container runs', async () => {
    await assert.rejects(pendingMigrations(testEngine, spec, { secrets: {} }), /TK_DATABASE_URL is not set in the release's environment/);
  });

  test('an unreachable database surfaces the app\'s error with the password blanked', async () => {
    const secrets = { TK_DATABASE_URL: `postgres://${pg.user}:${pg.password}@${pg.container}:5432/no_such_db` };
    await assert.rejects(pendingMigrations(testEngine, spec, { secrets }), (error: unknown) => {
      assert.ok(error instanceof DeployError);
      assert.match(error.message, /^Cannot read the migration status with trapperkeeper:\S+ \(exited with \d+\)/);
      assert.match(error.message, /no_such_db/);
      assert.ok(!error.message.includes(pg.password));
      return true;
    });
  });
});
