import type { JsonObject, JsonValue } from '../src/grpc/struct.js';
import { seededRandom } from '../src/rules/testing.js';

/**
 * Event payloads shaped like service request telemetry: nested objects, an optional order
 * with a list of line items, a tag list. Deterministic for a seed, so runs compare.
 */
export function generatePayloads(count: number, seed: number): JsonObject[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
  const money = (max: number): number => Math.round(random() * max * 100) / 100;

  return Array.from({ length: count }, (): JsonObject => {
    const request: JsonObject = {
      method: pick(['GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE']),
      path: pick(['/api/orders', '/api/cart', '/api/search', '/api/users/me', '/admin/reports', '/health']),
      status: pick([200, 200, 200, 200, 200, 200, 200, 201, 204, 400, 404, 429, 500, 503]),
      bytes: int(200, 2_000_000),
    };
    // 1 event in 100 lacks its latency: the FAIL-policy rule records an error for it.
    if (random() >= 0.01) request.latency_ms = Math.round(Math.exp(random() * 8) * 10) / 10;
    const payload: JsonObject = {
      service: pick(['checkout', 'search', 'auth', 'inventory', 'payments']),
      env: pick(['prod', 'prod', 'prod', 'staging']),
      host: `web-${int(1, 40)}`,
      request,
      user: {
        id: `u-${int(1, 1_000_000)}`,
        tier: pick(['free', 'free', 'pro', 'enterprise']),
        country: pick(['US', 'DE', 'FR', 'BR', 'IN', 'JP', 'GB']),
        age_days: int(0, 2000),
      },
      client: { version: pick(['1.2.0', '1.3.1', '2.0.0-beta']), platform: pick(['ios', 'android', 'web']) },
      retry: random() < 0.1,
      tags: random() < 0.05 ? ['debug', 'canary'] : ['canary'],
    };
    if (random() < 0.5) {
      const items: JsonValue[] = Array.from({ length: int(1, 5) }, () => ({
        sku: random() < 0.01 ? `TEST-${int(1, 99)}` : `SKU-${int(1000, 9999)}`,
        qty: int(1, 5),
        price: money(300),
      }));
      payload.order = {
        total: money(1000),
        currency: pick(['USD', 'USD', 'EUR', 'GBP', 'JPY']),
        coupon: random() < 0.7 ? null : `SAVE${int(5, 30)}`,
        items,
      };
    }
    return payload;
  });
}

