import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { allocatePorts, killChildren, startCli, webReadyUrl, webUiArgs, Workspace, type RunningCli, type ServicePorts } from './harness.js';

/** What `trapperkeeper web-ui` shows on its public port with the default configuration. */
describe('web-ui with default settings', () => {
  const workspace = new Workspace();
  let database: TestDatabase | undefined;
  let ports: ServicePorts;
  let webUi: RunningCli | undefined;

  before(async () => {
    database = await createTestDatabase('sqlite');
    ports = await allocatePorts();
    webUi = startCli(workspace, webUiArgs(ports), { env: { TK_DATABASE_URL: database.url } });
    await webUi.waitReady(webReadyUrl(ports));
  });
  after(async () => {
    await killChildren();
    await database?.drop();
    workspace.remove();
  });

  test('/metrics is not served on the public port, only on the internal metrics port', async () => {
    for (const path of ['/metrics', '/api/v1/stats/prometheus']) {
      const response = await fetch(`http://127.0.0.1:${ports.web}${path}`, { redirect: 'manual' });
      const text = await response.text();
      assert.notEqual(response.status, 200, `${path} on the public port`);
      assert.doesNotMatch(text, /trapperkeeper_http_requests_total/);
    }
    const internal = await fetch(`http://127.0.0.1:${ports.webMetrics}/metrics`);
    assert.equal(internal.status, 200);
    assert.match(await internal.text(), /trapperkeeper_http_requests_total\{service="web-ui"/);
    assert.equal((await fetch(`http://127.0.0.1:${ports.webMetrics}/readyz`)).status, 200);
  });

  test('/healthz and /readyz stay on the public port (the proxy health gate probes them there)', async () => {
    assert.equal((await fetch(`http://127.0.0.1:${ports.web}/healthz`)).status, 200);
    assert.equal((await fetch(webReadyUrl(ports))).status, 200);
  });

  test('X-Forwarded-Proto from a client is ignored: no Secure or __Host- cookies over plain HTTP', async () => {
    const response = await fetch(`http://127.0.0.1:${ports.web}/login`, { headers: { 'x-forwarded-proto': 'https' } });
    const cookies = response.headers.getSetCookie();
    assert.ok(cookies.some((line) => line.startsWith('tk_presession=')), cookies.join('\n'));
    assert.ok(!cookies.some((line) => line.startsWith('__Host-') || /; Secure/i.test(line)), cookies.join('\n'));
    assert.equal(response.headers.get('strict-transport-security'), null);
  });
});
