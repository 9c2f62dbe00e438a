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

  it('says why a TLS handshake failed, not just EPROTO: here the port answers in plain HTTP', async () => {
    const { server, port } = await listen((socket) => socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
    servers.push(server);
    assert.deepEqual(await httpsGet(`https://127.0.0.1:${port}/readyz`, { tls, timeoutMs: 2000 }), { unreachable: 'EPROTO (wrong version number)' });
  });

  it('says the server had no certificate for the name (its TLS alert), not just EPROTO', async () => {
    // What Caddy answers a ClientHello for a name it holds no certificate for: a fatal internal_error alert.
    const alert = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 80]);
    const { server, port } = await listen((socket) => socket.once('data', () => socket.end(alert)));
    servers.push(server);
    assert.deepEqual(await httpsGet(`https://127.0.0.1:${port}/readyz`, { tls, timeoutMs: 2000 }), { unreachable: 'EPROTO (tlsv1 alert internal error)' });
  });
});
