import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createApiKey } from '../../src/db/api-keys.js';
import { listRecentEvents } from '../../src/db/events.js';
import { createRule } from '../../src/db/rules.js';
import { DEFAULT_TENANT_ID } from '../../src/db/types.js';
import { jsonToStruct } from '../../src/grpc/struct.js';
import { condition, groups, newRule, num, path } from '../../src/rules/testing.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { connectSensorClient, type SensorClient } from '../support/sensor-client.js';
import {
  allocatePorts, killChildren, sensorApiArgs, sensorReadyUrl, startCli, Workspace, type RunningCli,
} from './harness.js';

const APP_DIR = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The command as installed (`npm ci` builds it; the container image runs it): compiled
 * JavaScript in dist/, where the ingestion workers start from worker.js instead of the
 * TypeScript sources the other tests run.
 */
describe('the built trapperkeeper command', () => {
  const workspace = new Workspace();
  let database: TestDatabase | undefined;
  let sensorApi: RunningCli | undefined;
  let client: SensorClient | undefined;
  let apiKey = '';
  let ruleId = '';

  before(async () => {
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: APP_DIR, stdio: 'pipe' });
    database = await createTestDatabase('sqlite');
    apiKey = (await createApiKey(database.db, DEFAULT_TENANT_ID, 'built sensor', workspace.hmacSecret)).key;
    const rule = newRule('hot', { state: 'RULE_STATE_ACTIVE', orGroups: groups([condition({ fieldPath: path('temperature'), op: 'OPERATOR_GT', value: num(30) })]) });
    ruleId = (await createRule(database.db, DEFAULT_TENANT_ID, rule)).ruleId;
  });
  after(async () => {
    client?.close();
    await sensorApi?.stop();
    await killChildren();
    await database?.drop();
    workspace.remove();
  });

  test('sensor-api ingests on its worker threads and stops cleanly on SIGTERM', async () => {
    const ports = await allocatePorts();
    sensorApi = startCli(workspace, sensorApiArgs(ports), {
      built: true,
      env: { TK_DATABASE_URL: database!.url, TK_SENSOR_API_INGEST_WORKERS: '2', TK_LOG_LEVEL: 'info' },
    });
    await sensorApi.waitReady(sensorReadyUrl(ports));
    client = connectSensorClient(ports.grpc);
    const events = Array.from({ length: 6 }, (_, i) => ({ eventId: `built-${i}`, payload: jsonToStruct({ temperature: 20 + i * 5 }) }));
    const replies = await Promise.all([0, 3].map((start) =>
      client!.reportEvents({ sensorId: 'built', events: events.slice(start, start + 3) }, { apiKey })));
    assert.deepEqual(replies.map((reply) => reply.response.acceptedCount), [3, 3]);

    const stored = await listRecentEvents(database!.db, DEFAULT_TENANT_ID, 10);
    const matched = stored.filter((event) => event.matches.some((match) => match.ruleId === ruleId)).map((event) => event.eventId);
    assert.deepEqual(matched.sort(), ['built-3', 'built-4', 'built-5']);

    const exit = await sensorApi.stop('SIGTERM');
    assert.equal(exit.code, 0, exit.stderr);
    assert.match(exit.stdout, /"ingestWorkers":2,?.*"msg":"sensor API listening"/);
  });
});
