import { setTimeout as sleep } from 'node:timers/promises';
import { prepareGracefulClose } from '../http/graceful-close.js';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { HmacSecret } from '../auth/hmac-secrets.js';
import { purgeExpiredSessions } from '../db/sessions.js';
import { prepareUnknownUserDecoy } from '../db/users.js';
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
import { LoginAudit } from './login-audit.js';
import { LoginThrottle, type LoginThrottlePolicy } from './login-throttle.js';
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
  /**
   * Trust X-Forwarded-Proto and X-Forwarded-For from one reverse proxy in front (the last
   * entry, the one that proxy added). Only behind a proxy that sets them.
   */
  trustProxy: boolean;
  /** Largest form post accepted; bigger ones are answered 413 before they are parsed. */
  maxBodyBytes: number;
  loginThrottle: LoginThrottlePolicy;
  tenantId?: string;
  /**
   * Adds routes to the public server that the UI does not own: the health endpoints
   * (/healthz, /readyz). Metrics are not among them; they have their own port.
   */
  extraRoutes?: (app: FastifyInstance) => void;
}

/** How often expired sessions are deleted from the database. */
export const SESSION_PURGE_INTERVAL_MS = 10 * 60_000;

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
    maxBodyBytes: deps.maxBodyBytes,
    loginThrottle: new LoginThrottle(deps.loginThrottle),
    loginAudit: new LoginAudit(deps.logger),
  };
  // The decoy hash an unknown username is checked against is made now, not on the first login.
  await prepareUnknownUserDecoy();

  // Only the nearest hop is trusted: the proxy's own X-Forwarded-* entry is the last one, which
  // a client cannot write (entries it sent itself come before it).
  const trustProxy = deps.trustProxy ? (_address: string, hop: number) => hop === 0 : false;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Requests are counted in metrics; only failures are logged (by the error handler).
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy,
    bodyLimit: deps.maxBodyBytes,
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
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const limit = request.routeOptions.bodyLimit ?? deps.maxBodyBytes;
      request.log.warn({ route: request.routeOptions.url, limit, contentLength: request.headers['content-length'] }, 'web-ui: request body over the limit refused (413)');
      return sendPage(reply, errorPage(413, 'Form too large',
        `What the browser sent is larger than the ${limit} bytes this page accepts, so it was not read and nothing was saved. Shorten it and send it again; the limit is web_ui.max_body_bytes.`), 413);
    }
    if (status >= 500) {
      logRefusal(request.log as Logger, 'error', request.ip, { err: error, route: request.routeOptions.url }, 'web-ui: request failed');
      return sendPage(reply, errorPage(500, 'Something went wrong', 'The server could not complete this request; the error was logged. Try again, or check the server log.'), 500);
    }
    return sendPage(reply, errorPage(status, 'Bad request', error.message), status);
  });

  deps.extraRoutes?.(app);

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
  /**
   * Shuts down within `timeoutMs`: for the first `acceptForMs` it keeps accepting and answering
   * (a proxy that has not yet seen /readyz turn 503 may still send), with `Connection: close`
   * on every answer so keep-alive clients reconnect elsewhere; then it stops accepting, lets
   * in-flight requests finish in the time left, and cuts the rest.
   */
  close(timeoutMs: number, acceptForMs?: number): Promise<void>;
}

/**
 * How the shutdown budget is split: the accepting phase takes at most half of it, so requests
 * accepted at its very end still have at least as long again to finish.
 */
export function shutdownPhases(timeoutMs: number, delayMs: number): { acceptForMs: number; finishWithinMs: number } {
  const acceptForMs = Math.min(delayMs, Math.floor(timeoutMs / 2));
  return { acceptForMs, finishWithinMs: timeoutMs - acceptForMs };
}

export async function startWebUi(deps: WebUiDeps & { host: string; port: number }): Promise<RunningWebUi> {
  const app = await buildWebUi(deps);
  let closing = false;
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('Connection', 'close');
  });
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
    async close(timeoutMs: number, acceptForMs = 0) {
      clearInterval(purge);
      closing = true;
      const phases = shutdownPhases(timeoutMs, acceptForMs);
      if (phases.acceptForMs > 0) {
        deps.logger.info({ acceptForMs: phases.acceptForMs }, 'web-ui: still accepting while proxies see /readyz 503');
        await sleep(phases.acceptForMs);
      }
      await closeGracefully(phases.finishWithinMs);
    },
  };
}
