import Fastify from 'fastify';
import { instrumentHttp, registerOpsRoutes, type OpsDeps } from './ops-routes.js';

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/** sensor-api's HTTP side port (default 9090): only the operational endpoints. */
export async function startOpsServer(options: { host: string; port: number; deps: OpsDeps }): Promise<OpsServer> {
  const app = Fastify({ logger: false, forceCloseConnections: 'idle' });
  instrumentHttp(app, options.deps.metrics, 'sensor-api');
  registerOpsRoutes(app, options.deps);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { port, close: () => app.close() };
}
