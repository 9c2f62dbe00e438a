import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Database } from '../db/types.js';
import { registerHealthRoutes, type OpsDeps } from './ops-routes.js';

describe('/readyz over HTTP when database pings fail', () => {
  let app: FastifyInstance;
  let base: string;
  let pingFails = false;
  let pingDelayMs = 0;
  let pings = 0;

  before(async () => {
    const db = {
      dialect: 'sqlite',
      async ping() {
        pings += 1;
        if (pingDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, pingDelayMs));
        if (pingFails) throw new Error('timed out');
      },
    } as unknown as Database;
    const deps = {
      db,
      build: { version: '1.2.3', commit: 'abc', buildDate: '2026-12-01T00:00:00Z' },
      schemaVersion: async () => '005_x',
      draining: () => false,
      releaseId: 'r1',
      readinessLimits: { failuresBeforeUnready: 3, graceMs: 60_000 },
    } as unknown as OpsDeps;
    app = Fastify();
    registerHealthRoutes(app, deps);
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => app.close());

  const readyz = async () => {
    const response = await fetch(`${base}/readyz`);
    return { code: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('answers 503 before the database ever answered, then 200 once it does', async () => {
    pingFails = true;
    assert.equal((await readyz()).code, 503);
    pingFails = false;
    const ready = await readyz();
    assert.equal(ready.code, 200);
    assert.equal(ready.body.schemaVersion, '005_x');
  });

  it('stays ready through two failed pings in a row, with a warning, and is unavailable at the third', async () => {
    pingFails = true;
    for (const inARow of [1, 2]) {
      const tolerated = await readyz();
      assert.equal(tolerated.code, 200);
      assert.equal(tolerated.body.release, 'r1');
      assert.match(String(tolerated.body.warning), new RegExp(`timed out \\(${inARow} in a row; not ready after 3\\)`));
    }
    const down = await readyz();
    assert.equal(down.code, 503);
    assert.equal(down.body.status, 'unavailable');
    assert.equal(down.body.consecutiveFailures, 3);
    pingFails = false;
    assert.equal((await readyz()).code, 200, 'ready again at the first answer');
  });

  it('probes arriving together share one database ping, and its failure counts once', async () => {
    pingFails = false;
    await readyz();
    pingFails = true;
    pingDelayMs = 300;
    pings = 0;
    const answers = await Promise.all(Array.from({ length: 10 }, () => readyz()));
    assert.equal(pings, 1, 'one ping for ten probes');
    assert.deepEqual([...new Set(answers.map((a) => a.code))], [200], 'one failed ping is tolerated, however many probes waited for it');
    pingFails = false;
    pingDelayMs = 0;
  });
});
