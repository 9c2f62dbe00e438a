import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { parseHmacSecret } from '../../src/auth/hmac-secrets.js';
import { allocatePorts, isListening, killChildren, startCli, Workspace } from './harness.js';

describe('trapperkeeper start (local all-in-one)', () => {
  const workspace = new Workspace();
  after(async () => {
    await killChildren();
    workspace.remove();
  });

  const serviceEnv = (ports: { grpc: number; sensorHttp: number; web: number; webMetrics: number }) => ({
    TK_SENSOR_API_HOST: '127.0.0.1',
    TK_SENSOR_API_PORT: String(ports.grpc),
    TK_SENSOR_API_HTTP_PORT: String(ports.sensorHttp),
    TK_WEB_UI_HOST: '127.0.0.1',
    TK_WEB_UI_PORT: String(ports.web),
    TK_WEB_UI_METRICS_PORT: String(ports.webMetrics),
  });

  test('migrates, runs both services, prints their URLs and the first-login hint, and Ctrl-C stops everything with exit 0', async () => {
    const ports = await allocatePorts();
    const start = startCli(workspace, ['start', '--data-dir', 'data'], {
      // A local install without TK_HMAC_SECRET gets a generated one.
      env: { TK_HMAC_SECRET: undefined, ...serviceEnv(ports) },
    });
    await start.waitForStdout(/TrapperKeeper is running[\s\S]*sign in at \S+\n/);
    const out = start.output.stdout;
    assert.match(out, new RegExp(`web UI\\s+http://127\\.0\\.0\\.1:${ports.web}\\n`));
    assert.match(out, new RegExp(`sensor API\\s+127\\.0\\.0\\.1:${ports.grpc} \\(gRPC`));
    assert.match(out, new RegExp(`health\\s+http://127\\.0\\.0\\.1:${ports.sensorHttp}/readyz`));
    assert.match(out, /First login: create an administrator/);
    assert.match(out, /users create-admin --username admin --data-dir \S+\/data\n/);
    assert.match(out, new RegExp(`sign in at http://127\\.0\\.0\\.1:${ports.web}/login`));

    for (const port of [ports.sensorHttp, ports.web]) {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      const body = (await response.json()) as { status?: string; schemaVersion?: string };
      assert.equal(response.status, 200);
      assert.equal(body.schemaVersion, '001_initial', 'start applied the migrations');
    }
    const secretFile = workspace.path('data/local-hmac-secret');
    assert.equal(statSync(secretFile).mode & 0o777, 0o600);
    assert.equal(typeof parseHmacSecret(readFileSync(secretFile, 'utf8').trim()), 'object', 'a valid TK_HMAC_SECRET value');

    const result = await start.stop('SIGINT');
    assert.equal(result.code, 0, result.stderr);
    for (const port of [ports.sensorHttp, ports.web, ports.webMetrics, ports.grpc]) {
      assert.equal(await isListening(port), false, `nothing listens on ${port} any more`);
    }
  });

  test('when a service cannot start, start says which, stops the other and exits non-zero', async () => {
    const ports = await allocatePorts();
    // Holds the web UI's port; start's readiness probes that reach it are hung up on.
    const squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(ports.web, '127.0.0.1', resolve));
    try {
      const result = await startCli(workspace, ['start', '--data-dir', 'data-busy-port'], { env: serviceEnv(ports) }).exited;
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, new RegExp(`web-ui cannot listen on 127\\.0\\.0\\.1:${ports.web}: the port is already in use`));
      assert.doesNotMatch(result.stderr, /unexpected error/);
      assert.match(result.stderr, /error: web-ui exited \(1\) while starting/);
      assert.doesNotMatch(result.stdout, /TrapperKeeper is running/);
      for (const port of [ports.sensorHttp, ports.grpc]) {
        assert.equal(await isListening(port), false, `sensor-api was stopped (port ${port})`);
      }
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});
