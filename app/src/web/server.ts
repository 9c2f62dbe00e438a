import { prepareGracefulClose } from '../http/graceful-close.js';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { HmacSecret } from '../auth/hmac-secrets.js';
import { purgeExpiredSessions } from '../db/sessions.js';
import { DEFAULT_TENANT_ID, type Database } from '../db/types.js';
import { UserError } from '../errors.js';
import { instrumentHttp } from '../http/ops-routes.js';
import type { Logger } from '../log/logger.js';
import { logRefusal } from '../log/refusal-log.js';
import type { BuildInfo, Metrics } from '../metrics/registry.js';
import { STYLESHEET } from './assets.js';
import { requireLogin } from './authenticate.js';
import { deriveCsrfKey } from './csrf.js';
import { FlashStore } from './flash.js';
import { errorPage } from './pages/error.js';
import { registerApiKeyRoutes } from './routes/api-key-routes.js';
import { registerEventRoutes } from './routes/event-routes.js';
import { registerLoginRoutes } from './routes/login-routes.js';
import { registerRuleRoutes } from './routes/rule-routes.js';
import { registerStatusRoutes } from './routes/status-routes.js';
import { registerTryRoutes } from './routes/try-routes.js';
import { addSecurityHeaders } from './security-headers.js';
import { sendPage, type WebContext } from './web-context.js';

export interface WebUiDeps {
  db: Database;
  logger: Logger;
  metrics: Metrics;
  /** The first is the primary: new API keys and the CSRF key derive from it. */
  hmacSecrets: HmacSecret[];
  build: BuildInfo;
  sessionTtlMinutes: number;
  /** Trust X-Forwarded-* (only behind a proxy that sets them). */
  trustProxy: boolean;
  tenantId?: string;
  /** Adds the operational routes (/healthz, /readyz, /metrics) to the same server. */
  ops?: (app: FastifyInstance) => void;
}

/** How often expired sessions are deleted from the database. */
export const SESSION_PURGE_INTERVAL_MS = 10 * 60_000;

/** Form posts are small except "try a rule", whose payload may be 1 MiB before URL encoding. */
const BODY_LIMIT_BYTES = 4 * 1024 * 1024;

export async function buildWebUi(deps: WebUiDeps): Promise<FastifyInstance> {
  const primarySecret = deps.hmacSecrets[0];
  if (!primarySecret) {
    throw new UserError('The web UI needs an HMAC secret and none is configured', 'set TK_HMAC_SECRET');
  }
  const context: WebContext = {
    db: deps.db,
    logger: deps.logger,
    build: deps.build,
    tenantId: deps.tenantId ?? DEFAULT_TENANT_ID,
    primarySecret,
    csrfKey: deriveCsrfKey(primarySecret),
    flashes: new FlashStore(),
    sessionTtlMinutes: deps.sessionTtlMinutes,
  };

  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Requests are counted in metrics; only failures are logged (by the error handler).
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: deps.trustProxy,
    bodyLimit: BODY_LIMIT_BYTES,
    forceCloseConnections: 'idle',
  });
  // Only HTML forms post here: no JSON or text bodies, so no parser for them is exposed.
  app.removeAllContentTypeParsers();
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  addSecurityHeaders(app);
  instrumentHttp(app, deps.metrics, 'web-ui');

  app.setNotFoundHandler(async (_request, reply) =>
    sendPage(reply, errorPage(404, 'Not found', 'There is no page at this address.'), 404));
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status >= 500) {
      logRefusal(request.log as Logger, 'error', request.ip, { err: error, route: request.routeOptions.url }, 'web-ui: request failed');
      return sendPage(reply, errorPage(500, 'Something went wrong', 'The server could not complete this request; the error was logged. Try again, or check the server log.'), 500);
    }
    return sendPage(reply, errorPage(status, 'Bad request', error.message), status);
  });

  deps.ops?.(app);

  app.get('/assets/style.css', async (_request, reply) =>
    reply.header('Cache-Control', 'public, max-age=3600').type('text/css; charset=utf-8').send(STYLESHEET));

  registerLoginRoutes(app, context);
  await app.register(async (scope) => {
    requireLogin(scope, context);
    registerRuleRoutes(scope, context);
    registerTryRoutes(scope, context);
    registerApiKeyRoutes(scope, context);
    registerEventRoutes(scope, context);
    registerStatusRoutes(scope, context);
  });
  return app;
}

export interface RunningWebUi {
  port: number;
  /** Stops accepting connections, lets in-flight requests finish for up to `drainMs`, then cuts the rest. */
  close(drainMs: number): Promise<void>;
}

export async function startWebUi(deps: WebUiDeps & { host: string; port: number }): Promise<RunningWebUi> {
  const app = await buildWebUi(deps);
  const closeGracefully = prepareGracefulClose(app, deps.logger, 'web-ui');
  await app.listen({ host: deps.host, port: deps.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : deps.port;
  deps.logger.info({ host: deps.host, port }, 'web-ui listening');
  const purge = setInterval(() => {
    purgeExpiredSessions(deps.db).then(
      (purged) => deps.logger.debug({ purged }, 'web-ui: expired sessions purged'),
      (error: unknown) => deps.logger.warn({ err: error }, 'web-ui: purging expired sessions failed'),
    );
  }, SESSION_PURGE_INTERVAL_MS);
  purge.unref();
  return {
    port,
    async close(drainMs: number) {
      clearInterval(purge);
      await closeGracefully(drainMs);
    },
  };
}
