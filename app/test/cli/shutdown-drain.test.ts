import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApiKey } from '../../src/db/api-keys.js';
import { createRule } from '../../src/db/rules.js';
import { DEFAULT_TENANT_ID } from '../../src/db/types.js';
import { createUser } from '../../src/db/users.js';
import { jsonToStruct } from '../../src/grpc/struct.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { equalsRule } from '../grpc/fixtures.js';
import { HttpClient } from '../web/harness.js';
import { startHeldReportEvents, type HeldCall } from './held-grpc-call.js';
import { startHeldPost, type HeldRequest } from './held-http-request.js';
import {
  allocatePorts, killChildren, sensorApiArgs, sensorReadyUrl, startCli, webReadyUrl, webUiArgs, Workspace,
  type RunningCli, type ServicePorts,
} from './harness.js';

const CALLS = 20;
const EVENTS_PER_CALL = 25;
const SHUTDOWN_TIMEOUT_MS = 20_000;
/** web-ui keeps accepting this long after SIGTERM (see web-ui-drain.test.ts), then closes its port. */
const WEB_UI_SHUTDOWN_DELAY_MS = 1_000;
const ADMIN = { username: 'admin', password: 'drain test password' };

function batch(call: number) {
  return {
    sensorId: `drain-${call}`,
    events: Array.from({ length: EVENTS_PER_CALL }, (_, i) => ({
      eventId: `drain-${call}-${i}`,
      payload: jsonToStruct({ temperature: i * 10, call }),
      metadata: { host: `host-${call}` },
    })),
  };
}

/** Polls until `check` passes, or fails with the last reason after `timeoutMs`. */
async function eventually(what: string, check: () => Promise<string | undefined>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let reason: string | undefined = 'not checked';
  while (Date.now() < deadline) {
    reason = await check();
    if (reason === undefined) return;
    await sleep(25);
  }
  throw new Error(`${what}: ${reason}`);
}

async function heldLogin(ports: ServicePorts): Promise<HeldRequest> {
  const client = new HttpClient(`http://127.0.0.1:${ports.web}`);
  const token = await client.csrfTokenFrom('/login');
  const cookie = [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  return startHeldPost(
    ports.web,
    '/login',
    { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    new URLSearchParams({ _csrf: token, username: ADMIN.username, password: ADMIN.password }).toString(),
  );
}

describe('SIGTERM with requests in flight (sensor-api and web-ui on SQLite)', () => {
  const workspace = new Workspace();
  let database: TestDatabase | undefined;
  let ports: ServicePorts;
  let sensorApi: RunningCli | undefined;
  let webUi: RunningCli | undefined;
  let apiKey = '';
  const held: { calls: HeldCall[] } = { calls: [] };

  before(async () => {
    database = await createTestDatabase('sqlite');
    apiKey = (await createApiKey(database.db, DEFAULT_TENANT_ID, 'drain test', workspace.hmacSecret)).key;
    await createUser(database.db, DEFAULT_TENANT_ID, ADMIN.username, ADMIN.password, { isAdmin: true });
    await createRule(database.db, DEFAULT_TENANT_ID, equalsRule('hot', 'temperature', 100));
    ports = await allocatePorts();
    const env = {
      TK_DATABASE_URL: database.url,
      TK_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      TK_WEB_UI_SHUTDOWN_DELAY_MS: String(WEB_UI_SHUTDOWN_DELAY_MS),
      TK_LOG_LEVEL: 'info',
    };
    sensorApi = startCli(workspace, sensorApiArgs(ports), { env });
    webUi = startCli(workspace, webUiArgs(ports), { env });
    await Promise.all([sensorApi.waitReady(sensorReadyUrl(ports)), webUi.waitReady(webReadyUrl(ports))]);
  });
  after(async () => {
    for (const call of held.calls) call.close();
    await killChildren();
    await database?.drop();
    workspace.remove();
  });

  test('every ReportEvents call and HTTP request started before SIGTERM completes, and both services exit 0', async () => {
    held.calls = await Promise.all(Array.from({ length: CALLS }, (_, i) => startHeldReportEvents(ports.grpc, apiKey, batch(i))));
    const logins = await Promise.all(Array.from({ length: CALLS }, () => heldLogin(ports)));

    const signalledAt = Date.now();
    sensorApi!.child.kill('SIGTERM');
    webUi!.child.kill('SIGTERM');

    // While the gRPC calls drain, sensor-api's readiness says so and no new connection is taken.
    await eventually('sensor-api /readyz turns 503 draining', async () => {
      const response = await fetch(sensorReadyUrl(ports));
      const body = (await response.json()) as { status?: string };
      return response.status === 503 && body.status === 'draining' ? undefined : `${response.status} ${JSON.stringify(body)}`;
    });
    await eventually('web-ui /readyz turns 503 draining', async () => {
      const response = await fetch(webReadyUrl(ports));
      const body = (await response.json()) as { status?: string };
      return response.status === 503 && body.status === 'draining' ? undefined : `${response.status} ${JSON.stringify(body)}`;
    });
    await eventually('web-ui stops taking requests after its shutdown delay', async () => {
      try {
        const response = await fetch(webReadyUrl(ports));
        await response.arrayBuffer();
        return response.status === 200 ? 'still answers 200' : undefined;
      } catch {
        return undefined;
      }
    });
    await sleep(300);
    assert.equal(sensorApi!.child.exitCode, null, 'sensor-api waits for its in-flight calls');
    assert.equal(webUi!.child.exitCode, null, 'web-ui waits for its in-flight requests');

    for (const call of held.calls) call.release();
    for (const login of logins) login.release();
    const callResults = await Promise.all(held.calls.map((call) => call.result));
    const loginResults = await Promise.all(logins.map((login) => login.result));

    callResults.forEach((result, i) => {
      assert.equal(result.grpcStatus, 0, `call ${i}: ${JSON.stringify(result)}`);
      assert.equal(result.response?.acceptedCount, EVENTS_PER_CALL, `call ${i}`);
    });
    loginResults.forEach((result, i) => {
      assert.deepEqual(result, { status: 303, location: '/rules' }, `login ${i}`);
    });

    const [sensorExit, webExit] = await Promise.all([sensorApi!.exited, webUi!.exited]);
    const took = Date.now() - signalledAt;
    assert.equal(sensorExit.code, 0, `sensor-api exit\n${sensorExit.stdout}\n${sensorExit.stderr}`);
    assert.equal(webExit.code, 0, `web-ui exit\n${webExit.stdout}\n${webExit.stderr}`);
    assert.ok(took < SHUTDOWN_TIMEOUT_MS, `exited ${took} ms after SIGTERM`);
    assert.doesNotMatch(`${sensorExit.stdout}${webExit.stdout}`, /drain timed out|still running after the drain/);

    const [row] = await database!.db.query<{ n: number }>('SELECT COUNT(*) AS n FROM events');
    assert.equal(Number(row?.n), CALLS * EVENTS_PER_CALL, 'every accepted event was stored');
  });
});
