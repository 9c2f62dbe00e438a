import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { status as grpcStatus } from '@grpc/grpc-js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { callFailure, connectSensorClient } from '../support/sensor-client.js';
import {
  allocatePorts, killChildren, sensorApiArgs, sensorReadyUrl, startCli, webReadyUrl, webUiArgs, Workspace,
} from './harness.js';

/*
 * A client can make the server refuse it as often as it likes; the log must not grow with it.
 * Real services (the trapperkeeper command), real sockets, and the log lines they print.
 */

const PER_PEER = 5;
const INTERVAL_MS = 3000;
const LIMITS_ENV = {
  TK_LOG_LEVEL: 'info',
  TK_LOG_REFUSAL_LINES_PER_PEER: String(PER_PEER),
  TK_LOG_REFUSAL_LINES: '50',
  TK_LOG_REFUSAL_INTERVAL_MS: String(INTERVAL_MS),
};

interface LogLine {
  msg: string;
  event?: string;
  suppressed?: number;
  intervalSeconds?: number;
  topPeers?: { peer: string; suppressed: number }[];
}

function logLines(stdout: string): LogLine[] {
  return stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as LogLine);
}

/** `refused` lines were written: at most PER_PEER per interval, the rest counted in summaries. */
function assertBounded(lines: LogLine[], message: string, sent: number): void {
  const written = lines.filter((line) => line.msg === message).length;
  const summaries = lines.filter((line) => line.event === message);
  const suppressed = summaries.reduce((sum, line) => sum + (line.suppressed ?? 0), 0);
  assert.ok(summaries.length >= 1, `no summary line for "${message}"`);
  assert.ok(written <= PER_PEER * summaries.length, `${written} "${message}" lines for ${summaries.length} interval(s)`);
  assert.equal(written + suppressed, sent, 'every refusal is either written or counted');
  for (const summary of summaries) {
    assert.equal(summary.msg, `suppressed ${summary.suppressed} similar lines in the last ${summary.intervalSeconds} s: ${message}`);
    assert.deepEqual(summary.topPeers, [{ peer: '127.0.0.1', suppressed: summary.suppressed }]);
  }
}

describe('refusal logging is bounded per client, with a summary of what was held back', () => {
  const workspace = new Workspace();
  let database: TestDatabase | undefined;

  before(async () => {
    database = await createTestDatabase('sqlite');
  });
  after(async () => {
    await killChildren();
    await database?.drop();
    workspace.remove();
  });

  test('sensor-api: 200 calls without a key write a handful of lines and a summary when the interval ends', async () => {
    const ports = await allocatePorts();
    const service = startCli(workspace, sensorApiArgs(ports), { env: { TK_DATABASE_URL: database!.url, ...LIMITS_ENV } });
    await service.waitReady(sensorReadyUrl(ports));
    const client = connectSensorClient(ports.grpc);
    const sent = 200;
    try {
      for (let batch = 0; batch < sent / 20; batch += 1) {
        const failures = await Promise.all(Array.from({ length: 20 }, () => callFailure(client.syncRules({ tags: [] }, {}))));
        for (const failure of failures) assert.equal(failure.code, grpcStatus.UNAUTHENTICATED);
      }
    } finally {
      client.close();
    }
    // Written by the interval's timer, while the service keeps running: not only at exit.
    await service.waitForStdout(/"msg":"suppressed \d+ similar lines in the last \d+ s: sensor API call refused"/, INTERVAL_MS + 5000);
    const result = await service.stop('SIGTERM');
    assert.equal(result.code, 0, result.stderr);
    assertBounded(logLines(result.stdout), 'sensor API call refused', sent);
  });

  test('web-ui: 100 posts without a CSRF token write a handful of lines and a summary', async () => {
    const ports = await allocatePorts();
    const service = startCli(workspace, webUiArgs(ports), { env: { TK_DATABASE_URL: database!.url, ...LIMITS_ENV } });
    await service.waitReady(webReadyUrl(ports));
    const sent = 100;
    for (let i = 0; i < sent; i += 1) {
      const response = await fetch(`http://127.0.0.1:${ports.web}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'username=admin&password=guess',
        signal: AbortSignal.timeout(5000),
      });
      await response.arrayBuffer();
      assert.equal(response.status, 403);
    }
    await service.waitForStdout(/"msg":"suppressed \d+ similar lines in the last \d+ s: web-ui: POST refused, CSRF token missing or invalid"/, INTERVAL_MS + 5000);
    const result = await service.stop('SIGTERM');
    assert.equal(result.code, 0, result.stderr);
    assertBounded(logLines(result.stdout), 'web-ui: POST refused, CSRF token missing or invalid', sent);
  });
});
