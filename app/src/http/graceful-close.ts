import type { FastifyInstance } from 'fastify';
import type { Logger } from '../log/logger.js';

/**
 * Stops accepting connections and lets in-flight requests finish for up to `drainMs`, then cuts
 * what is left. fastify closes the sockets idle right now (forceCloseConnections: 'idle'), but a
 * keep-alive socket that is busy, or open without a request yet, turns idle later and would hold
 * the server open until the client hangs up; so idle sockets are swept until the server closes.
 */
export async function closeGracefully(app: FastifyInstance, drainMs: number, logger: Logger, service: string): Promise<void> {
  const closed = app.close();
  const sweeper = setInterval(() => app.server.closeIdleConnections(), 50);
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
    app.server.closeAllConnections();
    await closed;
  }
}
