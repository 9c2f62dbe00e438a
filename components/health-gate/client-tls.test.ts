import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { httpsGet } from './client-tls.js';

/** A TCP listener on 127.0.0.1 that does `onConnection` with each socket (never speaks TLS). */
async function listen(onConnection: (socket: import('node:net').Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onConnection).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

describe('httpsGet (the public verification over TLS)', () => {
  const servers: Server[] = [];
  after(() => servers.forEach((server) => server.close()));
  const tls = { serverName: 'tk.localhost' };

  it('says a silent endpoint timed out (so a load probe can tell a stall from an outage)', async () => {
    const { server, port } = await listen(() => {});
    servers.push(server);
    assert.deepEqual(await httpsGet(`https://127.0.0.1:${port}/readyz`, { tls, timeoutMs: 300 }), { unreachable: 'TimeoutError (no answer within 300 ms)' });
  });

  it('names the socket error of an endpoint that refuses or drops the connection', async () => {
    const { server, port } = await listen((socket) => socket.destroy());
    servers.push(server);
    assert.match(((await httpsGet(`https://127.0.0.1:${port}/readyz`, { tls, timeoutMs: 2000 })) as { unreachable: string }).unreachable, /^ECONNRESET \(/);
    server.close();
    assert.deepEqual(await httpsGet(`https://127.0.0.1:${port}/readyz`, { tls, timeoutMs: 2000 }), { unreachable: 'ECONNREFUSED' });
  });
});
