import type { Command } from 'commander';
import { DEFAULT_SENSOR_API_HTTP_PORT, DEFAULT_SENSOR_API_PORT } from '../../config/defaults.js';

interface SensorApiOptions {
  host?: string;
  port?: string;
  httpPort?: string;
}

export function registerSensorApiCommand(program: Command): void {
  program
    .command('sensor-api')
    .description('Serve the gRPC sensor API (SyncRules, ReportEvents, grpc.health.v1) and /healthz, /readyz, /metrics over HTTP')
    .option('--host <address>', 'address to listen on (env TK_SENSOR_API_HOST)')
    .option('--port <port>', `gRPC port (env TK_SENSOR_API_PORT, default ${DEFAULT_SENSOR_API_PORT})`)
    .option('--http-port <port>', `HTTP port for health and metrics (env TK_SENSOR_API_HTTP_PORT, default ${DEFAULT_SENSOR_API_HTTP_PORT})`)
    .action(async (options: SensorApiOptions, command: Command) => {
      // Loaded on use: gRPC, fastify and prom-client would slow down every other command's start.
      const [{ runService }, { startSensorApi }, { startOpsServer }] = await Promise.all([
        import('../service-runtime.js'),
        import('../../grpc/server.js'),
        import('../../http/ops-server.js'),
      ]);
      await runService(command, 'sensor-api', { sensorApi: options }, async ({ config, logger, db, metrics, hmacSecrets, ops }) => {
        const { httpPort, ...grpcSettings } = config.sensorApi;
        const { host } = grpcSettings;
        const grpcServer = await startSensorApi({ ...grpcSettings, db, logger, metrics, hmacSecrets });
        const opsServer = await startOpsServer({ host, port: httpPort, deps: ops, logger, service: 'sensor-api' });
        return {
          listening: { grpc: `${host}:${grpcServer.port}`, http: `http://${host}:${opsServer.port}` },
          shutdown: [
            { name: 'drain gRPC calls', run: () => grpcServer.drain(config.shutdownTimeoutMs) },
            { name: 'close HTTP', run: () => opsServer.close(config.shutdownTimeoutMs) },
          ],
        };
      });
    });
}
