import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createApiKey } from '../../src/db/api-keys.js';
import { createRule } from '../../src/db/rules.js';
import { DEFAULT_TENANT_ID } from '../../src/db/types.js';
import { createUser } from '../../src/db/users.js';
import { jsonToStruct } from '../../src/grpc/struct.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { connectSensorClient, type SensorClient } from '../support/sensor-client.js';
import { equalsRule } from '../grpc/fixtures.js';
import { HttpClient } from '../web/harness.js';
import {
  allocatePorts, killChildren, runCli, sensorApiArgs, sensorReadyUrl, startCli, webReadyUrl, webUiArgs, Workspace,
  type CliResult, type RunningCli, type ServicePorts,
} from './harness.js';

const LOAD_MS = 10_000;
const EVENTS_PER_BATCH = 20;
const ADMIN = { username: 'admin', password: 'shared sqlite password' };
const LOCK_ERRORS = /SQLITE_BUSY|SQLITE_LOCKED|database is locked/i;

interface Tally {
  ok: number;
  failures: string[];
}

/** Runs `step` back to back until the deadline, counting successes and recording failures. */
async function loop(deadline: number, tally: Tally, step: (i: number) => Promise<string | undefined>): Promise<void> {
  for (let i = 0; Date.now() < deadline; i++) {
    try {
      const failure = await step(i);
      if (failure === undefined) tally.ok++;
      else tally.failures.push(failure);
    } catch (error) {
      tally.failures.push((error as Error).message);
    }
  }
}

describe('sensor-api, web-ui and migrate sharing one SQLite file under load', () => {
  const workspace = new Workspace();
  let database: TestDatabase | undefined;
  let ports: ServicePorts;
  let sensorApi: RunningCli | undefined;
  let webUi: RunningCli | undefined;
  let client: SensorClient | undefined;
  let apiKey = '';

  before(async () => {
    database = await createTestDatabase('sqlite');
    apiKey = (await createApiKey(database.db, DEFAULT_TENANT_ID, 'load test', workspace.hmacSecret)).key;
    await createUser(database.db, DEFAULT_TENANT_ID, ADMIN.username, ADMIN.password, { isAdmin: true });
    await createRule(database.db, DEFAULT_TENANT_ID, equalsRule('hot', 'temperature', 100));
    await createRule(database.db, DEFAULT_TENANT_ID, equalsRule('debug', 'level', 'debug'));
    ports = await allocatePorts();
    // info: anything the services log about locking is in the output checked below.
    const env = { TK_DATABASE_URL: database.url, TK_LOG_LEVEL: 'info' };
    sensorApi = startCli(workspace, sensorApiArgs(ports), { env });
    webUi = startCli(workspace, webUiArgs(ports), { env });
    await Promise.all([sensorApi.waitReady(sensorReadyUrl(ports)), webUi.waitReady(webReadyUrl(ports))]);
    client = connectSensorClient(ports.grpc);
  });
  after(async () => {
    client?.close();
    await killChildren();
    await database?.drop();
    workspace.remove();
  });

  test('for 10 s, every ReportEvents batch, logged-in page and migrate run succeeds, with no lock error anywhere', async (t) => {
    const grpcTally: Tally = { ok: 0, failures: [] };
    const webTally: Tally = { ok: 0, failures: [] };
    const migrateTally: Tally = { ok: 0, failures: [] };
    const migrateRuns: CliResult[] = [];
    const webClients = await Promise.all([0, 1].map(async () => {
      const web = new HttpClient(`http://127.0.0.1:${ports.web}`);
      const login = await web.login(ADMIN.username, ADMIN.password);
      assert.equal(login.status, 303);
      return web;
    }));
    const deadline = Date.now() + LOAD_MS;

    const sensors = [0, 1].map((worker) => loop(deadline, grpcTally, async (i) => {
      const events = Array.from({ length: EVENTS_PER_BATCH }, (_, n) => ({
        eventId: `load-${worker}-${i}-${n}`,
        payload: jsonToStruct({ temperature: n * 10, level: n % 2 === 0 ? 'debug' : 'info' }),
      }));
      const { response } = await client!.reportEvents({ sensorId: `load-${worker}`, events }, { apiKey, deadlineMs: 15_000 });
      return response.acceptedCount === EVENTS_PER_BATCH ? undefined : `batch accepted ${response.acceptedCount}: ${JSON.stringify(response.results)}`;
    }));
    const pages = webClients.map((web) => loop(deadline, webTally, async (i) => {
      const path = ['/rules', '/events', '/readyz', '/api-keys'][i % 4]!;
      const response = await web.get(path);
      const body = await response.text();
      return response.status === 200 ? undefined : `GET ${path}: ${response.status} ${body.slice(0, 300)}`;
    }));
    const migrations = loop(deadline, migrateTally, async (i) => {
      const result = await runCli(workspace, i % 2 === 0 ? ['migrate'] : ['migrate', '--status'], {
        env: { TK_DATABASE_URL: database!.url, TK_LOG_LEVEL: 'info' },
      });
      migrateRuns.push(result);
      if (result.code !== 0) return `migrate exited ${result.code}: ${result.stderr}`;
      return /schema is up to date|001_initial\s+applied/.test(result.stdout) ? undefined : `unexpected output: ${result.stdout}`;
    });
    await Promise.all([...sensors, ...pages, migrations]);
    t.diagnostic(`${grpcTally.ok} batches, ${webTally.ok} pages, ${migrateTally.ok} migrate runs`);

    assert.deepEqual(grpcTally.failures, []);
    assert.deepEqual(webTally.failures, []);
    assert.deepEqual(migrateTally.failures, []);
    assert.ok(grpcTally.ok >= 10, `only ${grpcTally.ok} batches in ${LOAD_MS} ms`);
    assert.ok(webTally.ok >= 20, `only ${webTally.ok} pages in ${LOAD_MS} ms`);
    assert.ok(migrateTally.ok >= 2, `only ${migrateTally.ok} migrate runs in ${LOAD_MS} ms`);

    const [sensorExit, webExit] = await Promise.all([sensorApi!.stop('SIGTERM'), webUi!.stop('SIGTERM')]);
    assert.equal(sensorExit.code, 0);
    assert.equal(webExit.code, 0);
    for (const result of [sensorExit, webExit, ...migrateRuns]) {
      assert.doesNotMatch(result.stdout, LOCK_ERRORS);
      assert.doesNotMatch(result.stderr, LOCK_ERRORS);
    }
    const [row] = await database!.db.query<{ n: number }>('SELECT COUNT(*) AS n FROM events');
    assert.equal(Number(row?.n), grpcTally.ok * EVENTS_PER_BATCH);
  });
});
