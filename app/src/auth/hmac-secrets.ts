import { createHash } from 'node:crypto';

/**
 * A server secret under which API keys are hashed. The key string carries the id of the
 * secret it was issued under, so older secrets keep verifying their keys while configured.
 * Configured as `TK_HMAC_SECRET=<32 lowercase hex id>:<base64 secret of at least 32 bytes>`.
 */
export interface HmacSecret {
  id: string;
  secret: Buffer;
}

export const HMAC_SECRET_MIN_BYTES = 32;

/**
 * The fewest different byte values a secret must contain. A secret of random bytes has about
 * 30 different values in 32 bytes (fewer than 16 happens with odds far below 1 in 10^20), while
 * an all-zero, one-repeated-byte or short repeating pattern has a handful: those are no secret.
 */
export const HMAC_SECRET_MIN_DISTINCT_BYTES = 16;

export const HMAC_SECRET_GENERATE_HINT =
  'generate one with: echo "$(openssl rand -hex 16):$(openssl rand -base64 32)" and set it as TK_HMAC_SECRET';

/** Returns the parsed secret, or a sentence saying what is wrong with it (never echoing the value). */
export function parseHmacSecret(value: string): HmacSecret | string {
  const separator = value.indexOf(':');
  if (separator < 0) return 'expected <32 hex id>:<base64 secret>, found no ":"';
  const id = value.slice(0, separator);
  const encoded = value.slice(separator + 1).trim();
  if (!/^[0-9a-f]{32}$/.test(id)) return 'the id before ":" must be 32 lowercase hex characters';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return 'the secret after ":" must be base64';
  const secret = Buffer.from(encoded, 'base64');
  if (secret.length < HMAC_SECRET_MIN_BYTES) {
    return `the secret decodes to ${secret.length} bytes; at least ${HMAC_SECRET_MIN_BYTES} are required`;
  }
  const distinct = new Set(secret).size;
  if (distinct < HMAC_SECRET_MIN_DISTINCT_BYTES) {
    return `the secret has only ${distinct} different byte value${distinct === 1 ? '' : 's'} (all zeros, one repeated byte or a short pattern); `
      + `random bytes are required, with at least ${HMAC_SECRET_MIN_DISTINCT_BYTES} different values`;
  }
  return { id, secret };
}

/** What the database records about a configured secret: its id and a hash, never the secret. */
export function hmacSecretFingerprint(secret: HmacSecret): string {
  return createHash('sha256').update(secret.secret).digest('hex');
}
