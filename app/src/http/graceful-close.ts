import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../log/logger.js';

export type GracefulClose = (drainMs: number) => Promise<void>;

/**
 * Prepares `app` for a drain and returns the function that performs it: stop accepting, let
 * in-flight requests finish for up to `drainMs`, then cut what is left.
 *
 * Node's closeIdleConnections() leaves alone a socket that is connected but has not sent a
 * request yet (a proxy's pre-opened upstream connection is one), so such a socket held every
 * drain to its full timeout. Sockets are therefore tracked from the start: any socket without a
 * request in progress is closed, again every 50 ms until the server has closed.
 */
export function prepareGracefulClose(app: FastifyInstance, logger: Logger, service: string): GracefulClose {
  const sockets = new Set<Socket>();
  const busy = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      busy.delete(socket);
    });
  });
  app.server.on('request', (request: { socket: Socket }, response: NodeJS.EventEmitter) => {
    busy.add(request.socket);
    const done = () => busy.delete(request.socket);
    response.once('finish', done);
    response.once('close', done);
  });
  const closeIdle = () => {
    for (const socket of sockets) if (!busy.has(socket)) socket.destroy();
  };

  return async (drainMs) => {
    const closed = app.close();
    closeIdle();
    const sweeper = setInterval(closeIdle, 50);
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      closed.then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(resolve, drainMs, false);
      }),
    ]);
    clearTimeout(timer);
    clearInterval(sweeper);
    if (!drained) {
      logger.warn({ drainMs, service }, 'requests still running after the drain time; closing their connections');
      for (const socket of sockets) socket.destroy();
      await closed;
    }
  };
}
