import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import {
  allocatePorts, isListening, killChildren, startCli, webReadyUrl, webUiArgs, Workspace, type RunningCli, type ServicePorts,
} from './harness.js';

const REQUESTS = 20;
const SHUTDOWN_TIMEOUT_MS = 8_000;
const SHUTDOWN_DELAY_MS = 1_500;

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
}

/** A GET on its own connection, sent as soon as the connection is up. */
function getOnNewConnection(port: number, path: string): Promise<Answer | { error: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
      res.on('error', (error) => resolve({ error: error.message }));
    });
    req.on('error', (error) => resolve({ error: error.message }));
    req.end();
  });
}

describe('web-ui on SIGTERM', () => {
  const workspace = new Workspace();
  let database: TestDatabase | undefined;
  let ports: ServicePorts;
  let webUi: RunningCli | undefined;

  before(async () => {
    database = await createTestDatabase('sqlite');
    ports = await allocatePorts();
    webUi = startCli(workspace, webUiArgs(ports), {
      env: {
        TK_DATABASE_URL: database.url,
        TK_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
        TK_WEB_UI_SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
      },
    });
    await webUi.waitReady(webReadyUrl(ports));
  });
  after(async () => {
    await killChildren();
    await database?.drop();
    workspace.remove();
  });

  test('requests sent just before SIGTERM are all answered, /readyz is 503 while it keeps accepting, then the port closes and it exits 0', async () => {
    // The connections are being opened (most will wait in the listen backlog) when SIGTERM lands.
    const sent = Array.from({ length: REQUESTS }, () => getOnNewConnection(ports.web, '/login'));
    await new Promise((resolve) => setImmediate(resolve));
    const signalledAt = Date.now();
    webUi!.child.kill('SIGTERM');

    const answers = await Promise.all(sent);
    answers.forEach((answer, i) => {
      assert.ok('status' in answer, `request ${i}: ${JSON.stringify(answer)}`);
      assert.equal(answer.status, 200, `request ${i}`);
    });

    // A new connection after SIGTERM is still accepted, and told the service is draining.
    const readiness = await getOnNewConnection(ports.web, '/readyz');
    assert.ok(Date.now() - signalledAt < SHUTDOWN_DELAY_MS, 'checked within the delay');
    assert.ok('status' in readiness, JSON.stringify(readiness));
    assert.equal(readiness.status, 503);
    assert.equal((JSON.parse(readiness.body) as { status?: string }).status, 'draining');
    assert.equal(readiness.connection, 'close', 'keep-alive clients are sent elsewhere');

    const exit = await webUi!.exited;
    const took = Date.now() - signalledAt;
    assert.equal(exit.code, 0, `exit\n${exit.stdout}\n${exit.stderr}`);
    assert.ok(took >= SHUTDOWN_DELAY_MS, `kept accepting for the delay (exited after ${took} ms)`);
    assert.ok(took < SHUTDOWN_TIMEOUT_MS, `exited ${took} ms after SIGTERM, within shutdown_timeout_ms`);
    await sleep(50);
    assert.equal(await isListening(ports.web), false);
    assert.equal(await isListening(ports.webMetrics), false);
  });
});
