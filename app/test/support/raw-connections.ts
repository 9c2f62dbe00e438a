import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * Bare TCP connections to a server, as an idle or half-speaking client (or an attacker) would
 * hold them, and a relay that makes a real client's connections come from another loopback
 * address (on Linux all of 127.0.0.0/8 is loopback).
 */

/** What an HTTP/2 client sends first: the 24-byte connection preface and an empty SETTINGS frame. */
export const HTTP2_CLIENT_PREFACE = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'),
  Buffer.from([0, 0, 0, 0x04, 0, 0, 0, 0, 0]),
]);

export interface RawConnection {
  socket: Socket;
  /** Resolves when the connection is closed, by either side. */
  closed: Promise<void>;
  isClosed(): boolean;
}

/** Opens a TCP connection that sends `firstBytes` (nothing by default) and then stays silent. */
export async function openRawConnection(port: number, options: { localAddress?: string; firstBytes?: Buffer } = {}): Promise<RawConnection> {
  const socket = connect({ host: '127.0.0.1', port, localAddress: options.localAddress });
  socket.on('error', () => {});
  // Whatever the server sends (SETTINGS, GOAWAY) is read and dropped, as a silent client would.
  socket.resume();
  let isClosed = false;
  const closed = once(socket, 'close').then(() => {
    isClosed = true;
  });
  await once(socket, 'connect');
  if (options.firstBytes) socket.write(options.firstBytes);
  return { socket, closed, isClosed: () => isClosed };
}

/** Opens `count` raw connections one after another (so their age order is their index order). */
export async function openRawConnections(count: number, port: number, options: { localAddress?: string; firstBytes?: Buffer } = {}): Promise<RawConnection[]> {
  const connections: RawConnection[] = [];
  for (let index = 0; index < count; index++) connections.push(await openRawConnection(port, options));
  return connections;
}

/** Resolves true when `connection` closes within `timeoutMs`, false when it is still open then. */
export async function closesWithin(connection: RawConnection, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([connection.closed.then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

export interface AddressRelay {
  /** Point a client at 127.0.0.1:<port>; the server sees its connections come from `localAddress`. */
  port: number;
  close(): Promise<void>;
}

/** A TCP relay on 127.0.0.1 that connects to 127.0.0.1:`targetPort` from `localAddress`. */
export async function startAddressRelay(targetPort: number, localAddress: string): Promise<AddressRelay> {
  const pairs = new Set<Socket>();
  const relay: Server = createServer((incoming) => {
    const outgoing = connect({ host: '127.0.0.1', port: targetPort, localAddress });
    for (const [from, to] of [[incoming, outgoing], [outgoing, incoming]] as const) {
      pairs.add(from);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        pairs.delete(from);
        to.destroy();
      });
      from.pipe(to);
    }
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  const address = relay.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: async () => {
      for (const socket of pairs) socket.destroy();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    },
  };
}
