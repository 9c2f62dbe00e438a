import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { status as grpcStatus } from '@grpc/grpc-js';
import { listApiKeys } from '../../src/db/api-keys.js';
import { DEFAULT_TENANT_ID } from '../../src/db/types.js';
import { countUsers, verifyUserPassword } from '../../src/db/users.js';
import { jsonToStruct } from '../../src/grpc/struct.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { callFailure, connectSensorClient, type SensorClient } from '../support/sensor-client.js';
import {
  allocatePorts, killChildren, runCli, sensorApiArgs, sensorReadyUrl, startCli, webUiArgs, Workspace, type CliResult, type RunningCli,
} from './harness.js';

const STDIN_PASSWORD = 'correct horse battery staple';
const ENV_PASSWORD = 'another long passphrase';
const KEY_PATTERN = /^tk-v1-[0-9a-f]{32}-[0-9a-f]{64}$/;
const GENERATE_HINT = /openssl rand -hex 16.*openssl rand -base64 32.*TK_HMAC_SECRET/;
const ALL_ZERO_SECRET = `${'0'.repeat(32)}:${Buffer.alloc(32).toString('base64')}`;
const REPEATED_BYTE_SECRET = `${'1'.repeat(32)}:${Buffer.alloc(32, 0x41).toString('base64')}`;
const ARGV_PASSWORD = 'argv-canary-pw';

describe('users and API keys through the trapperkeeper command', () => {
  const workspace = new Workspace();
  let database: TestDatabase | undefined;
  let sensorApi: RunningCli | undefined;
  let client: SensorClient | undefined;
  let apiKey = '';
  let apiKeyId = '';
  const run: Record<string, CliResult> = {};
  const cli = (args: string[], options: { env?: Record<string, string | undefined>; input?: string } = {}) =>
    runCli(workspace, args, { ...options, env: { TK_DATABASE_URL: database!.url, ...options.env } });

  before(async () => {
    database = await createTestDatabase('sqlite');
    // Independent commands, several writing the same SQLite file at once: run them side by side.
    const commands: Record<string, Promise<CliResult>> = {
      adminFromStdin: cli(['users', 'create-admin', '--username', 'admin'], { input: `${STDIN_PASSWORD}\n` }),
      adminFromEnv: cli(['users', 'create-admin', '--username', 'operator'], { env: { TK_ADMIN_PASSWORD: ENV_PASSWORD } }),
      shortPassword: cli(['users', 'create-admin', '--username', 'shorty'], { input: 'short' }),
      createKey: cli(['api-keys', 'create', '--name', 'sensor-a']),
      createKeyWithoutSecret: cli(['api-keys', 'create', '--name', 'nope'], { env: { TK_HMAC_SECRET: undefined } }),
      sensorApiWithoutSecret: cli([...sensorApiArgs(await allocatePorts())], { env: { TK_HMAC_SECRET: undefined } }),
      sensorApiAllZeroSecret: cli([...sensorApiArgs(await allocatePorts())], { env: { TK_HMAC_SECRET: ALL_ZERO_SECRET } }),
      webUiRepeatedOlderSecret: cli([...webUiArgs(await allocatePorts())], { env: { TK_HMAC_SECRET_1: REPEATED_BYTE_SECRET } }),
      sensorApiPasswordOnArgv: cli([...sensorApiArgs(await allocatePorts()), '--db-url', `postgres://tk:${ARGV_PASSWORD}@127.0.0.1:5432/tk`]),
      migratePasswordOnArgv: cli(['migrate', '--db-url', `mysql://root:${ARGV_PASSWORD}@127.0.0.1:3306/tk`]),
    };
    for (const [name, promise] of Object.entries(commands)) run[name] = await promise;
  });
  after(async () => {
    client?.close();
    await sensorApi?.stop();
    await killChildren();
    await database?.drop();
    workspace.remove();
  });

  test('users create-admin reads the password from standard input', async () => {
    const result = run.adminFromStdin!;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'created administrator admin\n');
    const user = await verifyUserPassword(database!.db, 'admin', STDIN_PASSWORD);
    assert.ok(user, 'the password from stdin (without its newline) logs in');
    assert.equal(user.isAdmin, true);
  });

  test('users create-admin reads the password from TK_ADMIN_PASSWORD', async () => {
    const result = run.adminFromEnv!;
    assert.equal(result.code, 0, result.stderr);
    assert.ok(await verifyUserPassword(database!.db, 'operator', ENV_PASSWORD));
  });

  test('a too-short password is refused and creates no user', async () => {
    const result = run.shortPassword!;
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /too short/);
    assert.equal(await countUsers(database!.db), 2);
  });

  test('api-keys create prints the 103-character key once, on stdout only', () => {
    const result = run.createKey!;
    assert.equal(result.code, 0, result.stderr);
    apiKey = result.stdout.trim();
    assert.equal(result.stdout, `${apiKey}\n`);
    assert.match(apiKey, KEY_PATTERN);
    assert.equal(apiKey.length, 103);
    assert.ok(apiKey.startsWith(`tk-v1-${workspace.hmacSecret.id}-`), 'issued under the primary TK_HMAC_SECRET');
    assert.ok(!result.stderr.includes(apiKey));
    apiKeyId = /created key ([0-9a-f-]{36})/.exec(result.stderr)?.[1] ?? '';
    assert.ok(apiKeyId, `stderr names the key id:\n${result.stderr}`);
  });

  test('without TK_HMAC_SECRET, api-keys create and sensor-api exit non-zero and say how to generate one', async () => {
    for (const name of ['createKeyWithoutSecret', 'sensorApiWithoutSecret']) {
      const result = run[name]!;
      assert.notEqual(result.code, 0, name);
      assert.match(result.stderr, /TK_HMAC_SECRET must be set/, name);
      assert.match(result.stderr, GENERATE_HINT, name);
    }
    assert.deepEqual((await listApiKeys(database!.db, DEFAULT_TENANT_ID)).map((key) => key.name), ['sensor-a']);
  });

  test('an HMAC secret without entropy stops sensor-api and web-ui at start-up, naming the variable and how to generate one', () => {
    for (const [name, variable] of [['sensorApiAllZeroSecret', 'TK_HMAC_SECRET'], ['webUiRepeatedOlderSecret', 'TK_HMAC_SECRET_1']] as const) {
      const result = run[name]!;
      assert.notEqual(result.code, 0, name);
      assert.match(result.stderr, new RegExp(`\\(env ${variable}\\): is malformed: the secret has only 1 different byte value`), name);
      assert.match(result.stderr, GENERATE_HINT, name);
    }
  });

  test('--db-url with a password is refused before connecting, pointing to TK_DATABASE_URL / TK_DATABASE_PASSWORD', () => {
    for (const name of ['sensorApiPasswordOnArgv', 'migratePasswordOnArgv']) {
      const result = run[name]!;
      assert.notEqual(result.code, 0, name);
      assert.match(result.stderr, /database\.url \(flag --db-url\): contains a password, and command lines are visible to every user of the machine/, name);
      assert.match(result.stderr, /TK_DATABASE_PASSWORD/, name);
      assert.match(result.stderr, /TK_DATABASE_URL/, name);
      assert.ok(!`${result.stdout}${result.stderr}`.includes(ARGV_PASSWORD), `${name} printed the password`);
    }
  });

  test('the printed key works against a running sensor-api', async () => {
    const ports = await allocatePorts();
    sensorApi = startCli(workspace, [...sensorApiArgs(ports), '--db-url', database!.url]);
    await sensorApi.waitReady(sensorReadyUrl(ports));
    client = connectSensorClient(ports.grpc);
    const { response } = await client.reportEvents(
      { sensorId: 'cli-test', events: [{ eventId: 'e-1', payload: jsonToStruct({ temperature: 20 }) }] },
      { apiKey },
    );
    assert.equal(response.acceptedCount, 1);
    const sync = await client.syncRules({ tags: [] }, { apiKey });
    assert.equal(typeof sync.response.etag, 'string');
  });

  test('api-keys list shows the key by id and name, never the key itself', async () => {
    const result = await cli(['api-keys', 'list']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^${apiKeyId}\\s+sensor-a\\s`, 'm'));
    const secretPart = apiKey.slice(-64);
    assert.ok(!result.stdout.includes(secretPart) && !result.stderr.includes(secretPart), 'the key is never listed');
  });

  test('api-keys list --json prints the same keys as one JSON array, for tools, never the key itself', async () => {
    const result = await cli(['api-keys', 'list', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const rows = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(rows.map((row) => Object.keys(row).sort()), [['createdAt', 'id', 'lastUsedAt', 'name', 'revokedAt', 'secretId']]);
    const [row] = rows;
    assert.equal(row!.id, apiKeyId);
    assert.equal(row!.name, 'sensor-a');
    assert.equal(row!.secretId, workspace.hmacSecret.id);
    assert.equal(row!.revokedAt, null);
    assert.ok(!Number.isNaN(Date.parse(String(row!.createdAt))), `createdAt is a time: ${String(row!.createdAt)}`);
    assert.ok(!result.stdout.includes(apiKey.slice(-64)), 'the key is never listed');
  });

  test('api-keys revoke <id> makes the key PERMISSION_DENIED', async () => {
    const result = await cli(['api-keys', 'revoke', apiKeyId]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `revoked ${apiKeyId}\n`);
    const error = await callFailure(client!.reportEvents(
      { sensorId: 'cli-test', events: [{ eventId: 'e-2', payload: jsonToStruct({ temperature: 21 }) }] },
      { apiKey },
    ));
    assert.equal(error.code, grpcStatus.PERMISSION_DENIED);
    const listed = JSON.parse((await cli(['api-keys', 'list', '--json'])).stdout) as Array<{ id: string; revokedAt: string | null }>;
    assert.ok(listed.find((row) => row.id === apiKeyId)?.revokedAt, 'list --json shows when it was revoked');

    const unknown = await cli(['api-keys', 'revoke', '00000000-0000-7000-8000-00000000dead']);
    assert.notEqual(unknown.code, 0, 'an unknown id is refused');
    assert.match(unknown.stderr, /No active API key with id 00000000-0000-7000-8000-00000000dead/);
  });

  test('sensor-api stops with exit code 0 on SIGTERM', async () => {
    const result = await sensorApi!.stop('SIGTERM');
    assert.equal(result.code, 0, result.stderr);
  });
});
