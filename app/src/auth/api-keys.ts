import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { HmacSecret } from './hmac-secrets.js';

/**
 * Sensor API keys: `tk-v1-<secret id: 32 lowercase hex>-<64 lowercase hex random>`.
 * The key names the server secret it was issued under, so verification needs no
 * trial across secrets. The reference design calls this "102 characters"; the format
 * it spells out (and its own example) is 6 + 32 + 1 + 64 = 103, which is what we use.
 */
export const API_KEY_PREFIX = 'tk-v1-';
const RANDOM_BYTES = 32;
export const API_KEY_LENGTH = API_KEY_PREFIX.length + 32 + 1 + RANDOM_BYTES * 2;

const API_KEY_PATTERN = /^tk-v1-([0-9a-f]{32})-[0-9a-f]{64}$/;

export function generateApiKey(secret: HmacSecret): string {
  return `${API_KEY_PREFIX}${secret.id}-${randomBytes(RANDOM_BYTES).toString('hex')}`;
}

/** The id of the secret the key was issued under, or undefined when the text is not a key. */
export function parseApiKey(text: string): { secretId: string } | undefined {
  const match = API_KEY_PATTERN.exec(text);
  return match?.[1] === undefined ? undefined : { secretId: match[1] };
}

/**
 * HMAC-SHA256 (hex) of the whole key string under `secret`, the key's stored form. `secret`
 * must be the one whose id the key carries; hashing under another is a bug and throws.
 */
export function hashApiKey(key: string, secret: HmacSecret): string {
  const parsed = parseApiKey(key);
  if (parsed && parsed.secretId !== secret.id) {
    throw new Error(`API key of secret ${parsed.secretId} hashed under secret ${secret.id}`);
  }
  return createHmac('sha256', secret.secret).update(key, 'utf8').digest('hex');
}

/** Compares two key hashes without leaking, through timing, how much of them agrees. */
export function apiKeyHashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
