import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { currentSchemaVersion } from '../../src/db/migrator.js';
import { registerHealthRoutes } from '../../src/http/ops-routes.js';
import { startWebHarness, TEST_BUILD } from './harness.js';

function get(port: number, path: string, agent?: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ...(agent ? { agent } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the health routes answer next to the UI, without login, and are counted in the metrics', async () => {
  const h = await startWebHarness({
    routes: (app, { db, metrics }) => registerHealthRoutes(app, {
      db, metrics, build: TEST_BUILD, schemaVersion: () => currentSchemaVersion(db), draining: () => false,
    }),
  });
  try {
    assert.equal((await get(h.web.port, '/healthz')).status, 200);
    const ready = await get(h.web.port, '/readyz');
    assert.equal(ready.status, 200);
    assert.match(ready.body, /"schemaVersion":"\d+/);
    const counted = await h.metrics.registry.getSingleMetricAsString('trapperkeeper_http_requests_total');
    assert.match(counted, /trapperkeeper_http_requests_total\{service="web-ui",method="GET",route="\/healthz",code="200"\} 1/);
  } finally {
    await h.close();
  }
});

test('close lets an in-flight request finish, refuses new connections, and does not wait for idle keep-alive sockets', async () => {
  const h = await startWebHarness({
    routes: (app) => app.get('/slow', async () => {
      await sleep(400);
      return 'done';
    }),
  });
  const agent = new Agent({ keepAlive: true });
  try {
    // An idle keep-alive connection that would otherwise hold the server open.
    assert.equal((await get(h.web.port, '/login', agent)).status, 200);
    const inFlight = get(h.web.port, '/slow');
    await sleep(100);
    const started = Date.now();
    const closing = h.web.close(5_000);
    await sleep(20);
    await assert.rejects(get(h.web.port, '/login'), /ECONNREFUSED/);
    assert.deepEqual(await inFlight, { status: 200, body: 'done' });
    await closing;
    const took = Date.now() - started;
    assert.ok(took < 2_000, `close took ${took} ms`);
  } finally {
    agent.destroy();
    await h.close();
  }
});

test('close cuts requests still running after the drain time', async () => {
  const h = await startWebHarness({
    routes: (app) => app.get('/stuck', async () => {
      await sleep(10_000, undefined, { ref: false });
      return 'too late';
    }),
  });
  try {
    const stuck = get(h.web.port, '/stuck').then(() => 'answered', () => 'cut');
    await sleep(100);
    const started = Date.now();
    await h.web.close(200);
    assert.ok(Date.now() - started < 2_000);
    assert.equal(await stuck, 'cut');
  } finally {
    await h.close();
  }
});

test('close does not wait for a connection that never sent a request (a proxy pre-opens such upstreams)', async () => {
  const h = await startWebHarness({});
  const socket = connect(h.web.port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    const started = Date.now();
    await h.web.close(5_000);
    const took = Date.now() - started;
    assert.ok(took < 1_000, `close took ${took} ms`);
  } finally {
    socket.destroy();
    await h.close();
  }
});
