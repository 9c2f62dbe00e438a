import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createEmptyTestDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';
import {
  allocatePorts, killChildren, runCli, sensorApiArgs, sensorReadyUrl, startCli, webUiArgs, Workspace, type CliResult,
} from './harness.js';

/** Trust auth accepts any password, so the URL connects and the password must never be printed. */
const CANARY = 's3cret-canary';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('trapperkeeper migrate on PostgreSQL, with a password in the URL', { skip: !DIALECTS.includes('postgres') }, () => {
  const workspace = new Workspace();
  let database: TestDatabase | undefined;
  let url = '';
  /** The URL as it may be printed: the password masked. */
  let maskedPattern = '';
  const outputs: CliResult[] = [];
  const cli = async (...args: string[]) => {
    // debug: every log line the commands can write is checked for the password too.
    // The URL (with its password) comes from the environment: --db-url refuses a password.
    const result = await runCli(workspace, args, { env: { TK_DATABASE_URL: url, TK_LOG_LEVEL: 'debug' } });
    outputs.push(result);
    return result;
  };

  before(async () => {
    database = await createEmptyTestDatabase('postgres');
    const withPassword = new URL(database.url);
    withPassword.password = CANARY;
    url = withPassword.toString();
    const hostAndDb = `@${withPassword.host}${withPassword.pathname}`;
    maskedPattern = `postgres(ql)?://${escapeRegExp(withPassword.username)}:[^@\\s]*${escapeRegExp(hostAndDb)}`;
  });
  after(async () => {
    await killChildren();
    await database?.drop();
    workspace.remove();
  });

  test('sensor-api and web-ui refuse an unmigrated database, naming the migrate command with the password masked', async () => {
    const ports = await allocatePorts();
    const [sensorApi, webUi, status] = await Promise.all([
      cli(...sensorApiArgs(ports)),
      cli(...webUiArgs(ports)),
      cli('migrate', '--status'),
    ]);
    for (const [name, result] of [['sensor-api', sensorApi], ['web-ui', webUi]] as const) {
      assert.notEqual(result.code, 0, `${name} must not start`);
      assert.match(result.stderr, /Database schema out of date/, name);
      assert.match(result.stderr, new RegExp(`trapperkeeper migrate with TK_DATABASE_URL=${maskedPattern} \\(the password in the URL or in TK_DATABASE_PASSWORD`), name);
    }
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^001_initial\s+pending\b/m);
  });

  test('migrate applies 001_initial, and a second run changes nothing', async () => {
    const first = await cli('migrate');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /applied 1 migration\(s\): 001_initial/);
    const second = await cli('migrate');
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, new RegExp(`schema is up to date \\(${maskedPattern}\\)`));
  });

  test('migrate --status lists 001_initial as applied', async () => {
    const status = await cli('migrate', '--status');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^ID\s+STATUS/);
    assert.match(status.stdout, /^001_initial\s+applied\s+\d{4}-\d\d-\d\dT/m);
  });

  test('once migrated, sensor-api starts on the same URL', async () => {
    const ports = await allocatePorts();
    const service = startCli(workspace, sensorApiArgs(ports), { env: { TK_DATABASE_URL: url, TK_LOG_LEVEL: 'debug' } });
    await service.waitReady(sensorReadyUrl(ports));
    const result = await service.stop('SIGTERM');
    outputs.push(result);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /starting sensor-api/, 'the start-up log (with the configuration) was written');
  });

  test('the password appears in no output of any of these commands', () => {
    assert.ok(outputs.length >= 7);
    for (const result of outputs) {
      assert.ok(!result.stdout.includes(CANARY), `stdout leaks the password:\n${result.stdout}`);
      assert.ok(!result.stderr.includes(CANARY), `stderr leaks the password:\n${result.stderr}`);
    }
  });
});
