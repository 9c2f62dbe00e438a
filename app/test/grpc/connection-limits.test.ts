import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { createApiKey } from '../../src/db/api-keys.js';
import { DEFAULT_TENANT_ID } from '../../src/db/types.js';
import type { SensorApiDeps } from '../../src/grpc/server.js';
import { callFailure, connectSensorClient, type SensorClient } from '../support/sensor-client.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import {
  closesWithin, HTTP2_CLIENT_PREFACE, openRawConnection, openRawConnections, startAddressRelay, type RawConnection,
} from '../support/raw-connections.js';
import { SECRET_A } from './fixtures.js';
import { counterValue, runSensorApi, type RunningSensorApi } from './harness.js';

/*
 * Idle and half-open TCP connections must not lock real sensors out: silent connections are
 * closed after a handshake timeout, idle ones after an idle timeout, one address holds a
 * bounded share of the connections, and at the global limit the connections that never made
 * a call give way to new ones.
 */

/** Limits that never fire during a test unless the test lowers them. */
const PATIENT: Partial<SensorApiDeps> = {
  handshakeTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  keepaliveTimeMs: 60_000,
  keepaliveTimeoutMs: 60_000,
};

describe('sensor API connection limits', () => {
  let database: TestDatabase;
  let apiKey: string;
  const cleanups: Array<() => Promise<void> | void> = [];

  before(async () => {
    database = await createTestDatabase('sqlite');
    ({ key: apiKey } = await createApiKey(database.db, DEFAULT_TENANT_ID, 'sensor', SECRET_A));
  });
  after(async () => {
    await database.drop();
  });

  async function start(overrides: Partial<SensorApiDeps>): Promise<RunningSensorApi> {
    const running = await runSensorApi(database.db, { ...PATIENT, ...overrides });
    cleanups.push(() => running.stop());
    return running;
  }
  function hold(connections: RawConnection[]): RawConnection[] {
    cleanups.push(() => connections.forEach((connection) => connection.socket.destroy()));
    return connections;
  }
  function client(port: number): SensorClient {
    const sensor = connectSensorClient(port);
    cleanups.push(() => sensor.close());
    return sensor;
  }
  async function cleanUp(): Promise<void> {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  }

  async function synced(sensor: SensorClient): Promise<void> {
    const { response } = await sensor.syncRules({ tags: [] }, { apiKey, deadlineMs: 3000 });
    assert.ok(response.etag, 'SyncRules answered with an etag');
  }

  test('a sensor is served while idle connections fill the global limit, and they give way oldest first', async () => {
    try {
      const running = await start({ maxConnections: 50, maxConnectionsPerAddress: 1000 });
      const port = running.server.port;
      // 25 that never send a byte and 25 that send the HTTP/2 preface and then nothing.
      const silent = hold(await openRawConnections(25, port));
      const handshaken = hold(await openRawConnections(25, port, { firstBytes: HTTP2_CLIENT_PREFACE }));
      await sleep(100);
      assert.ok([...silent, ...handshaken].every((connection) => !connection.isClosed()), 'all 50 were admitted');

      await synced(running.client);
      assert.ok(await closesWithin(silent[0]!, 1000), 'the oldest silent connection made room');
      assert.ok(silent.slice(1).every((connection) => !connection.isClosed()));

      // The attack goes on: every new connection takes the place of the oldest silent one,
      // never the sensor's, and a sensor that connects now is served too.
      const more = hold(await openRawConnections(10, port));
      await sleep(100);
      assert.ok(silent.slice(1, 11).every((connection) => connection.isClosed()));
      assert.ok(more.every((connection) => !connection.isClosed()));
      await synced(running.client);
      await synced(client(port));

      // Connections that completed the handshake push out the remaining silent ones; with no
      // silent connection left, the oldest that only completed the handshake gives way.
      const late = hold(await openRawConnections(23, port, { firstBytes: HTTP2_CLIENT_PREFACE }));
      await sleep(100);
      assert.ok([...silent, ...more].every((connection) => connection.isClosed()), 'every silent connection gave way');
      assert.ok([...handshaken, ...late].every((connection) => !connection.isClosed()));
      await synced(client(port));
      assert.ok(await closesWithin(handshaken[0]!, 1000), 'the oldest handshaken connection made room');
      assert.equal(handshaken[1]!.isClosed(), false);
      await synced(running.client);
      assert.equal(await counterValue(running.metrics, 'trapperkeeper_grpc_connections_shed_total', { reason: 'max_connections' }), 36);
      assert.equal(await counterValue(running.metrics, 'trapperkeeper_grpc_connections_refused_total'), 0);
    } finally {
      await cleanUp();
    }
  });

  test('one address holds at most max_connections_per_address; a sensor from another address is served', async () => {
    try {
      const running = await start({ maxConnections: 50, maxConnectionsPerAddress: 3 });
      const port = running.server.port;
      await synced(running.client);

      // The harness's sensor holds one of 127.0.0.1's three places; five silent connections
      // from there leave only the newest two open.
      const silent = hold(await openRawConnections(5, port));
      await sleep(100);
      assert.deepEqual(silent.map((connection) => connection.isClosed()), [true, true, true, false, false]);

      // Two more sensors from 127.0.0.1 take the silent ones' places; then the address is full
      // of connections that made calls, and a fourth is refused.
      await synced(client(port));
      await synced(client(port));
      const refused = await callFailure(client(port).syncRules({ tags: [] }, { apiKey, deadlineMs: 2000 }));
      assert.equal(refused.code, grpc.status.UNAVAILABLE);
      assert.ok(await counterValue(running.metrics, 'trapperkeeper_grpc_connections_refused_total', { reason: 'max_connections_per_address' }) >= 1);

      // Another address is not affected, and the admitted sensors keep working.
      const relay = await startAddressRelay(port, '127.0.0.2');
      cleanups.push(() => relay.close());
      await synced(client(relay.port));
      await synced(running.client);
    } finally {
      await cleanUp();
    }
  });

  test('calls without a valid key (health checks, bad keys) do not keep a connection from giving way', async () => {
    try {
      const running = await start({ maxConnections: 3, maxConnectionsPerAddress: 1000 });
      const port = running.server.port;
      // Three connections that made keyless calls fill the server.
      const prober = client(port);
      assert.equal(await prober.healthCheck(''), 'SERVING');
      const guesser = client(port);
      const guess = await callFailure(guesser.syncRules({ tags: [] }, { apiKey: `tk-v1-${'0'.repeat(32)}-${'0'.repeat(64)}` }));
      assert.equal(guess.code, grpc.status.UNAUTHENTICATED);
      const prober2 = client(port);
      assert.equal(await prober2.healthCheck(''), 'SERVING');

      // Sensors with a key take their places, one after another.
      await synced(running.client);
      await synced(client(port));
      await synced(client(port));
      assert.equal(await counterValue(running.metrics, 'trapperkeeper_grpc_connections_shed_total', { reason: 'max_connections' }), 3);
      // Now every place is held by a sensor that authenticated: a fourth is refused.
      const refused = await callFailure(client(port).syncRules({ tags: [] }, { apiKey, deadlineMs: 2000 }));
      assert.equal(refused.code, grpc.status.UNAVAILABLE);
      await synced(running.client);
    } finally {
      await cleanUp();
    }
  });

  test('a connection that sends nothing is closed after the handshake timeout; one that completed it stays', async () => {
    try {
      const running = await start({ handshakeTimeoutMs: 300 });
      const silent = hold([await openRawConnection(running.server.port)]);
      const handshaken = hold([await openRawConnection(running.server.port, { firstBytes: HTTP2_CLIENT_PREFACE })]);
      const partial = hold([await openRawConnection(running.server.port, { firstBytes: HTTP2_CLIENT_PREFACE.subarray(0, 10) })]);
      assert.ok(await closesWithin(silent[0]!, 2000), 'the silent connection was closed');
      assert.ok(await closesWithin(partial[0]!, 1000), 'the connection that sent part of the preface was closed');
      assert.equal(handshaken[0]!.isClosed(), false);
      assert.equal(await counterValue(running.metrics, 'trapperkeeper_grpc_connections_shed_total', { reason: 'handshake_timeout' }), 2);
      await synced(running.client);
    } finally {
      await cleanUp();
    }
  });

  test('a connection with no calls is closed after the idle timeout, and a sensor reconnects after it', async () => {
    try {
      const running = await start({ idleTimeoutMs: 500 });
      const idle = hold([await openRawConnection(running.server.port, { firstBytes: HTTP2_CLIENT_PREFACE })]);
      await synced(running.client);
      assert.ok(await closesWithin(idle[0]!, 3000), 'the idle connection was closed');
      await sleep(300);
      await synced(running.client);
    } finally {
      await cleanUp();
    }
  });

  test('a connection that does not answer keepalive pings is closed', async () => {
    try {
      const running = await start({ keepaliveTimeMs: 300, keepaliveTimeoutMs: 300 });
      const deaf = hold([await openRawConnection(running.server.port, { firstBytes: HTTP2_CLIENT_PREFACE })]);
      assert.ok(await closesWithin(deaf[0]!, 3000), 'the connection that never answered a ping was closed');
      // A real client answers the pings and keeps its connection.
      await synced(running.client);
      await sleep(1000);
      await synced(running.client);
    } finally {
      await cleanUp();
    }
  });
});
