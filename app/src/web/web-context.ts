import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HmacSecret } from '../auth/hmac-secrets.js';
import type { ActiveSession } from '../db/sessions.js';
import type { Database } from '../db/types.js';
import type { User } from '../db/users.js';
import type { Logger } from '../log/logger.js';
import type { BuildInfo } from '../metrics/registry.js';
import { issueCsrfToken, type CsrfKey } from './csrf.js';
import type { Flash, FlashStore } from './flash.js';
import type { LoginAudit } from './login-audit.js';
import type { LoginThrottle } from './login-throttle.js';
import type { SafeHtml } from './html.js';
import type { PageContext } from './pages/layout.js';

/** What every route module of the web UI shares. */
export interface WebContext {
  db: Database;
  logger: Logger;
  build: BuildInfo;
  tenantId: string;
  /** The primary secret: new API keys are issued under it. */
  primarySecret: HmacSecret;
  csrfKey: CsrfKey;
  flashes: FlashStore;
  sessionTtlMinutes: number;
  /** The default body limit; "try a rule" allows more (see TRY_BODY_LIMIT_BYTES). */
  maxBodyBytes: number;
  loginThrottle: LoginThrottle;
  loginAudit: LoginAudit;
}

/** The logged-in state of a request, set by the authentication hook. */
export interface RequestAuth {
  sessionId: string;
  session: ActiveSession;
  user: User;
}

const authByRequest = new WeakMap<FastifyRequest, RequestAuth>();

export function setRequestAuth(request: FastifyRequest, auth: RequestAuth): void {
  authByRequest.set(request, auth);
}

/** The request's login; only routes behind the authentication hook may call it. */
export function requestAuth(request: FastifyRequest): RequestAuth {
  const auth = authByRequest.get(request);
  if (!auth) throw new Error(`route ${request.routeOptions.url} ran without the authentication hook`);
  return auth;
}

export function sessionCsrfToken(context: WebContext, auth: RequestAuth): string {
  return issueCsrfToken(context.csrfKey, { kind: 'session', id: auth.sessionId });
}

/** Username, a fresh CSRF token and the pending flashes (consumed by this call). */
export function pageContext(context: WebContext, request: FastifyRequest): PageContext {
  const auth = requestAuth(request);
  return {
    username: auth.user.username,
    csrfToken: sessionCsrfToken(context, auth),
    flashes: context.flashes.take(auth.session.idHash),
  };
}

export function flash(context: WebContext, request: FastifyRequest, message: Flash): void {
  context.flashes.push(requestAuth(request).session.idHash, message);
}

export function sendPage(reply: FastifyReply, page: SafeHtml, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(page.value);
}

/** POST-redirect-GET: 303 makes the browser follow with a GET. */
export function redirectAfterPost(reply: FastifyReply, location: string): FastifyReply {
  return reply.redirect(location, 303);
}
