import type { Command } from 'commander';
import { DEFAULT_WEB_UI_PORT } from '../../config/defaults.js';
import { BUILD_INFO } from '../../version.js';

interface WebUiOptions {
  host?: string;
  port?: string;
}

export function registerWebUiCommand(program: Command): void {
  program
    .command('web-ui')
    .description('Serve the web UI (rules, API keys, events, status) with /healthz, /readyz, /metrics')
    .option('--host <address>', 'address to listen on (env TK_WEB_UI_HOST)')
    .option('--port <port>', `HTTP port (env TK_WEB_UI_PORT, default ${DEFAULT_WEB_UI_PORT})`)
    .action(async (options: WebUiOptions, command: Command) => {
      // Loaded on use: fastify, the pages and prom-client would slow down every other command's start.
      const [{ runService }, { registerOpsRoutes }, { startWebUi }] = await Promise.all([
        import('../service-runtime.js'),
        import('../../http/ops-routes.js'),
        import('../../web/server.js'),
      ]);
      await runService(command, 'web-ui', { webUi: options }, async ({ config, logger, db, metrics, hmacSecrets, ops }) => {
        const server = await startWebUi({
          host: config.webUi.host,
          port: config.webUi.port,
          db,
          logger,
          metrics,
          hmacSecrets,
          build: BUILD_INFO,
          sessionTtlMinutes: config.webUi.sessionTtlMinutes,
          trustProxy: config.webUi.trustProxy,
          ops: (app) => registerOpsRoutes(app, ops),
        });
        return {
          listening: { http: `http://${config.webUi.host}:${server.port}` },
          shutdown: [{ name: 'drain HTTP requests', run: () => server.close(config.shutdownTimeoutMs) }],
        };
      });
    });
}
