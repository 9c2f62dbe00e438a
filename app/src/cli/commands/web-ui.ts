import type { Command } from 'commander';
import { DEFAULT_WEB_UI_METRICS_PORT, DEFAULT_WEB_UI_PORT } from '../../config/defaults.js';
import { BUILD_INFO } from '../../version.js';

interface WebUiOptions {
  host?: string;
  port?: string;
  metricsPort?: string;
}

export function registerWebUiCommand(program: Command): void {
  program
    .command('web-ui')
    .description('Serve the web UI (rules, API keys, events, status) with /healthz and /readyz; /metrics on the internal metrics port')
    .option('--host <address>', 'address to listen on (env TK_WEB_UI_HOST)')
    .option('--port <port>', `HTTP port (env TK_WEB_UI_PORT, default ${DEFAULT_WEB_UI_PORT})`)
    .option('--metrics-port <port>', `internal port for /metrics, /healthz, /readyz (env TK_WEB_UI_METRICS_PORT, default ${DEFAULT_WEB_UI_METRICS_PORT}; host TK_WEB_UI_METRICS_HOST)`)
    .action(async (options: WebUiOptions, command: Command) => {
      // Loaded on use: fastify, the pages and prom-client would slow down every other command's start.
      const [{ runService }, { registerHealthRoutes }, { startOpsServer }, { startWebUi }] = await Promise.all([
        import('../service-runtime.js'),
        import('../../http/ops-routes.js'),
        import('../../http/ops-server.js'),
        import('../../web/server.js'),
      ]);
      await runService(command, 'web-ui', { webUi: options }, async ({ config, logger, db, metrics, hmacSecrets, ops }) => {
        const { webUi } = config;
        const opsServer = await startOpsServer({ host: webUi.metricsHost, port: webUi.metricsPort, deps: ops, logger, service: 'web-ui' });
        const server = await startWebUi({
          host: webUi.host,
          port: webUi.port,
          db,
          logger,
          metrics,
          hmacSecrets,
          build: BUILD_INFO,
          sessionTtlMinutes: webUi.sessionTtlMinutes,
          trustProxy: webUi.trustProxy,
          maxBodyBytes: webUi.maxBodyBytes,
          loginThrottle: webUi.loginThrottle,
          // The proxy's health gate probes /readyz here; metrics stay on the internal port.
          extraRoutes: (app) => registerHealthRoutes(app, ops),
        }).catch(async (error: unknown) => {
          await opsServer.close(0);
          throw error;
        });
        return {
          listening: {
            http: `http://${webUi.host}:${server.port}`,
            metrics: `http://${webUi.metricsHost}:${opsServer.port}/metrics`,
          },
          shutdown: [
            { name: 'drain HTTP requests', run: () => server.close(config.shutdownTimeoutMs, webUi.shutdownDelayMs) },
            { name: 'close the metrics port', run: () => opsServer.close(500) },
          ],
        };
      });
    });
}
