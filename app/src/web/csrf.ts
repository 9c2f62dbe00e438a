import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { HmacSecret } from '../auth/hmac-secrets.js';

/**
 * CSRF tokens in the OWASP "signed double-submit cookie" style: token = nonce + HMAC(key,
 * binding + nonce), where the binding is the session id from the cookie (or the pre-session
 * id on the login form). A token from another session, or a forged one, fails verification.
 */
export type CsrfKey = Buffer & { readonly __csrfKey: unique symbol };

/** Derived, so the API-key secret itself is never used for a second purpose. */
export function deriveCsrfKey(primary: HmacSecret): CsrfKey {
  return createHmac('sha256', primary.secret).update('trapperkeeper web-ui csrf v1').digest() as CsrfKey;
}

export type CsrfBinding = { kind: 'session' | 'pre-session'; id: string };

function mac(key: CsrfKey, binding: CsrfBinding, nonce: string): Buffer {
  // Length-prefixed so no (binding, nonce) pair can collide with another.
  return createHmac('sha256', key)
    .update(`${binding.kind}\n${binding.id.length}\n${binding.id}\n${nonce}`)
    .digest();
}

export function issueCsrfToken(key: CsrfKey, binding: CsrfBinding): string {
  const nonce = randomBytes(18).toString('base64url');
  return `${nonce}.${mac(key, binding, nonce).toString('base64url')}`;
}

export function verifyCsrfToken(key: CsrfKey, binding: CsrfBinding, token: unknown): boolean {
  if (typeof token !== 'string' || token.length > 200) return false;
  const [nonce, signature, extra] = token.split('.');
  if (!nonce || !signature || extra !== undefined) return false;
  const expected = mac(key, binding, nonce);
  const given = Buffer.from(signature, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
