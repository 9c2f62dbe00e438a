import { createHmac, timingSafeEqual } from 'node:crypto';

/** Unix seconds at which this attempt was sent; part of what is signed. */
export const TIMESTAMP_HEADER = 'x-tk-timestamp';
/** `v1=<hex HMAC-SHA256 of "<timestamp>.<body>" under the webhook secret>`. */
export const SIGNATURE_HEADER = 'x-tk-signature';
/** The notification's id: the same on every retry of it, so a receiver can drop duplicates. */
export const DELIVERY_HEADER = 'x-tk-delivery';
export const EVENT_HEADER = 'x-tk-event';

/** How far a signed timestamp may be from the receiver's clock (either way) before it is refused. */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

const SCHEME = 'v1=';

/** The signature header's value for `body` sent at `timestampSeconds`. The secret is used as its UTF-8 bytes. */
export function signWebhook(secret: string, timestampSeconds: number, body: string | Buffer): string {
  return `${SCHEME}${createHmac('sha256', secret).update(`${timestampSeconds}.`).update(body).digest('hex')}`;
}

export type SignatureCheck = { valid: true; timestamp: number } | { valid: false; reason: string };

type Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

function header(headers: Headers, name: string): string | undefined {
  const direct = headers[name] ?? Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(direct) ? direct[0] : (direct as string | undefined);
}

/**
 * For receivers: checks a delivery as it arrived, before trusting anything in it. `body` must be
 * the raw request body (bytes or the exact text), not re-serialized JSON. Refuses a missing or
 * malformed header, a timestamp further than `toleranceSeconds` from `now` (a replay of an old
 * delivery), and a signature that does not match (a tampered body or timestamp, or another
 * secret). To refuse a replay inside the tolerance window too, remember `x-tk-delivery` ids for
 * that long and drop repeats.
 *
 * @example
 * const check = verifyWebhookSignature(process.env.TK_WEBHOOK_SECRET!, req.headers, rawBody);
 * if (!check.valid) return res.writeHead(401).end(check.reason);
 */
export function verifyWebhookSignature(
  secret: string,
  headers: Headers,
  body: string | Buffer,
  options: { now?: Date; toleranceSeconds?: number } = {},
): SignatureCheck {
  const timestampText = header(headers, TIMESTAMP_HEADER);
  const signature = header(headers, SIGNATURE_HEADER);
  if (timestampText === undefined || signature === undefined) return { valid: false, reason: `missing ${TIMESTAMP_HEADER} or ${SIGNATURE_HEADER} header` };
  if (!/^\d{1,12}$/.test(timestampText)) return { valid: false, reason: `malformed ${TIMESTAMP_HEADER} header` };
  const timestamp = Number(timestampText);
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_SIGNATURE_TOLERANCE_SECONDS;
  if (Math.abs(now - timestamp) > tolerance) return { valid: false, reason: `timestamp is ${now - timestamp} s from now, outside ±${tolerance} s (a replay, or a wrong clock)` };
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { valid: false, reason: 'signature does not match the body and timestamp' };
  return { valid: true, timestamp };
}
