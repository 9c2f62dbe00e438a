import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { lookupSession } from '../db/sessions.js';
import { getUser } from '../db/users.js';
import { logRefusal } from '../log/refusal-log.js';
import { verifyCsrfToken } from './csrf.js';
import { errorPage } from './pages/error.js';
import { readCookie, writeCookie } from './session-cookie.js';
import { sendPage, setRequestAuth, type WebContext } from './web-context.js';

/**
 * A same-site path to return to after login; anything else (//evil, /\\evil, https://...) is
 * dropped. Characters outside printable ASCII are percent-encoded (UTF-8), as a browser would
 * write them, because a Location header can carry nothing else.
 */
export function safeNextPath(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 512) return undefined;
  if (!/^\/(?![/\\])[^\s\p{Cc}]*$/u.test(value) || value.startsWith('/login')) return undefined;
  try {
    return value.replace(/[^\x21-\x7e]+/g, (run) => encodeURI(run));
  } catch {
    return undefined; // a lone surrogate: not text a browser could have sent
  }
}

function bodyField(request: FastifyRequest, name: string): unknown {
  const body = request.body;
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>)[name];
  return Array.isArray(value) ? value[0] : value;
}

export function refuseCsrf(request: FastifyRequest, reply: FastifyReply, context: WebContext): FastifyReply {
  logRefusal(context.logger, 'warn', request.ip, { route: request.routeOptions.url, method: request.method, peer: request.ip }, 'web-ui: POST refused, CSRF token missing or invalid');
  return sendPage(reply, errorPage(403, 'Request refused',
    'The form was missing its security token, or the token belongs to another session. Nothing was changed. Go back, reload the page and try again.'), 403);
}

export function csrfTokenFrom(request: FastifyRequest): unknown {
  return bodyField(request, '_csrf');
}

/**
 * Guards every route registered on `scope`: no live session sends the browser to /login;
 * every POST must carry a CSRF token bound to this session. Sessions slide their expiry on
 * use, and the cookie's Max-Age is refreshed when they do.
 */
export function requireLogin(scope: FastifyInstance, context: WebContext): void {
  scope.addHook('onRequest', async (request, reply) => {
    const sessionId = readCookie(request, 'session');
    const session = sessionId
      ? await lookupSession(context.db, sessionId, { ttlMinutes: context.sessionTtlMinutes })
      : undefined;
    const user = session && session.tenantId === context.tenantId ? await getUser(context.db, session.userId) : undefined;
    if (!sessionId || !session || !user) {
      const next = request.method === 'GET' ? safeNextPath(request.url) : undefined;
      const target = next && next !== '/' ? `/login?next=${encodeURIComponent(next)}` : '/login';
      return reply.redirect(target, 303);
    }
    if (session.extended) writeCookie(request, reply, 'session', sessionId, context.sessionTtlMinutes * 60);
    setRequestAuth(request, { sessionId, session, user });
  });

  scope.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST') return;
    const sessionId = readCookie(request, 'session') ?? '';
    if (!verifyCsrfToken(context.csrfKey, { kind: 'session', id: sessionId }, csrfTokenFrom(request))) {
      return refuseCsrf(request, reply, context);
    }
  });
}
