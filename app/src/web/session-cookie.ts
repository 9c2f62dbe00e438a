import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The two cookies of the web UI: the login session, and the pre-session that binds the login
 * form's CSRF token before anyone is logged in. On HTTPS (directly, or via a trusted proxy's
 * X-Forwarded-Proto) they are Secure and carry the `__Host-` prefix, which browsers only
 * accept with Secure, Path=/ and no Domain, so a sibling subdomain cannot plant or shadow them.
 */
export type CookieKind = 'session' | 'pre-session';

const BASE_NAMES: Record<CookieKind, string> = { session: 'tk_session', 'pre-session': 'tk_presession' };

/** Fastify resolves `protocol` from the socket, or from X-Forwarded-Proto only when trustProxy is on. */
export function isSecureRequest(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}

export function cookieName(kind: CookieKind, secure: boolean): string {
  return secure ? `__Host-${BASE_NAMES[kind]}` : BASE_NAMES[kind];
}

export function readCookie(request: FastifyRequest, kind: CookieKind): string | undefined {
  const value = request.cookies[cookieName(kind, isSecureRequest(request))];
  return value && value.length <= 128 ? value : undefined;
}

export function writeCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  kind: CookieKind,
  value: string,
  maxAgeSeconds: number,
): void {
  const secure = isSecureRequest(request);
  reply.setCookie(cookieName(kind, secure), value, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure,
    maxAge: maxAgeSeconds,
  });
}

export function clearCookie(request: FastifyRequest, reply: FastifyReply, kind: CookieKind): void {
  const secure = isSecureRequest(request);
  reply.clearCookie(cookieName(kind, secure), { path: '/', httpOnly: true, sameSite: 'lax', secure });
}
