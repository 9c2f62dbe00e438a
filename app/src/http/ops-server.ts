import Fastify from 'fastify';
import type { Logger } from '../log/logger.js';
import { prepareGracefulClose } from './graceful-close.js';
import { instrumentHttp, registerOpsRoutes, type OpsDeps } from './ops-routes.js';

export interface OpsServer {
  port: number;
  /** Lets in-flight requests finish for up to `drainMs`, then cuts what is left. */
  close(drainMs: number): Promise<void>;
}

/** sensor-api's HTTP side port (default 9090): only the operational endpoints. */
export async function startOpsServer(options: { host: string; port: number; deps: OpsDeps; logger: Logger }): Promise<OpsServer> {
  const app = Fastify({ logger: false, forceCloseConnections: 'idle' });
  instrumentHttp(app, options.deps.metrics, 'sensor-api');
  registerOpsRoutes(app, options.deps);
  const closeGracefully = prepareGracefulClose(app, options.logger, 'sensor-api http');
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { port, close: closeGracefully };
}
