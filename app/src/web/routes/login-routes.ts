import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createSession, deleteSession } from '../../db/sessions.js';
import { countUsers, USERNAME_MAX_LENGTH, verifyUserPassword } from '../../db/users.js';
import { csrfTokenFrom, refuseCsrf, requireLogin, safeNextPath } from '../authenticate.js';
import { issueCsrfToken, verifyCsrfToken } from '../csrf.js';
import { throttleAddress } from '../login-throttle.js';
import { loginPage } from '../pages/login.js';
import { clearCookie, readCookie, writeCookie } from '../session-cookie.js';
import { redirectAfterPost, requestAuth, sendPage, type WebContext } from '../web-context.js';

/** The pre-session cookie only has to outlive filling in the login form. */
const PRE_SESSION_MAX_AGE_SECONDS = 60 * 60;

function textField(request: FastifyRequest, name: string): string {
  const value = (request.body as Record<string, unknown> | undefined)?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : '';
}

/** /login (public) and /logout (behind login). */
export function registerLoginRoutes(app: FastifyInstance, context: WebContext): void {
  app.get('/login', async (request, reply) => {
    let preSession = readCookie(request, 'pre-session');
    if (!preSession) {
      preSession = randomBytes(32).toString('base64url');
      writeCookie(request, reply, 'pre-session', preSession, PRE_SESSION_MAX_AGE_SECONDS);
    }
    const next = safeNextPath((request.query as Record<string, unknown>).next);
    return sendPage(reply, loginPage({
      csrfToken: issueCsrfToken(context.csrfKey, { kind: 'pre-session', id: preSession }),
      noUsersYet: (await countUsers(context.db)) === 0,
      ...(next ? { next } : {}),
    }));
  });

  app.post('/login', async (request, reply) => {
    const preSession = readCookie(request, 'pre-session');
    if (!preSession || !verifyCsrfToken(context.csrfKey, { kind: 'pre-session', id: preSession }, csrfTokenFrom(request))) {
      return refuseCsrf(request, reply, context);
    }
    const username = textField(request, 'username').trim();
    const next = safeNextPath(textField(request, 'next'));
    const address = throttleAddress(request.ip);
    const audit = { username: username.slice(0, USERNAME_MAX_LENGTH), address };
    const formAgain = async (error: string) => loginPage({
      csrfToken: issueCsrfToken(context.csrfKey, { kind: 'pre-session', id: preSession }),
      username,
      error,
      noUsersYet: (await countUsers(context.db)) === 0,
      ...(next ? { next } : {}),
    });

    const admission = await context.loginThrottle.admit(address, username);
    if (admission.waitMs > 0) {
      const retryAfterSeconds = Math.ceil(admission.waitMs / 1000);
      context.loginAudit.throttled({ ...audit, scope: 'scope' in admission ? admission.scope : undefined, retryAfterSeconds });
      reply.header('Retry-After', String(retryAfterSeconds));
      return sendPage(reply, await formAgain(
        `Too many failed logins. Nothing was checked; try again in ${retryAfterSeconds} ${retryAfterSeconds === 1 ? 'second' : 'seconds'}.`,
      ), 429);
    }
    let user: Awaited<ReturnType<typeof verifyUserPassword>>;
    try {
      // Every refused attempt costs one password verification, whether the username exists or not.
      user = await verifyUserPassword(context.db, username, textField(request, 'password'));
      if (!user || user.tenantId !== context.tenantId) {
        context.loginThrottle.recordFailure(address, username);
        context.loginAudit.failed(audit);
        user = undefined;
      }
    } finally {
      if ('done' in admission) admission.done();
    }
    if (!user) return sendPage(reply, await formAgain('Wrong username or password.'), 401);
    context.loginThrottle.recordSuccess(address, username);
    // Session fixation: whatever session id the browser held before, it gets a new one now.
    const previous = readCookie(request, 'session');
    if (previous) await deleteSession(context.db, previous);
    const { id } = await createSession(context.db, {
      userId: user.id,
      tenantId: user.tenantId,
      ttlMinutes: context.sessionTtlMinutes,
    });
    writeCookie(request, reply, 'session', id, context.sessionTtlMinutes * 60);
    clearCookie(request, reply, 'pre-session');
    context.logger.info({ username, userId: user.id, address }, 'web-ui: login');
    return redirectAfterPost(reply, next ?? '/rules');
  });

  app.register(async (scope) => {
    requireLogin(scope, context);
    scope.post('/logout', async (request, reply) => {
      const auth = requestAuth(request);
      await deleteSession(context.db, auth.sessionId);
      context.flashes.discard(auth.session.idHash);
      clearCookie(request, reply, 'session');
      context.logger.info({ userId: auth.user.id }, 'web-ui: logout');
      return redirectAfterPost(reply, '/login');
    });
  });
}
