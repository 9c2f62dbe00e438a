import Fastify from 'fastify';
import type { Logger } from '../log/logger.js';
import { prepareGracefulClose } from './graceful-close.js';
import { instrumentHttp, registerOpsRoutes, type OpsDeps } from './ops-routes.js';

export interface OpsServer {
  port: number;
  /** Lets in-flight requests finish for up to `drainMs`, then cuts what is left. */
  close(drainMs: number): Promise<void>;
}

/**
 * A service's internal HTTP port, with only the operational endpoints: sensor-api's
 * http_port (default 9090) and web-ui's metrics_port (default 9091).
 */
export async function startOpsServer(options: {
  host: string;
  port: number;
  deps: OpsDeps;
  logger: Logger;
  /** Labels its request metrics and names it in logs. */
  service: 'sensor-api' | 'web-ui';
}): Promise<OpsServer> {
  const app = Fastify({ logger: false, forceCloseConnections: 'idle' });
  instrumentHttp(app, options.deps.metrics, options.service);
  registerOpsRoutes(app, options.deps);
  const closeGracefully = prepareGracefulClose(app, options.logger, `${options.service} ops http`);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { port, close: closeGracefully };
}
