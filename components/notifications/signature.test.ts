import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signWebhook, verifyWebhookSignature } from './signature.js';

const SECRET = 'whsec-3f9c2a7d0b1e4c5f8a6d2e9b7c4f1a0d';
const NOW = new Date('2026-12-02T10:15:02Z');
const T = Math.floor(NOW.getTime() / 1000);
const BODY = '{"event":"release.failed"}';

describe('webhook signatures', () => {
  it('signs "<timestamp>.<body>" with HMAC-SHA256, as a receiver recomputes it with any HMAC library', () => {
    // Computed independently: printf '%s' '1796206502.{"event":"release.failed"}' | openssl dgst -sha256 -hmac "$SECRET"
    assert.equal(signWebhook(SECRET, T, BODY), 'v1=a37bb30d25d6d6d90d35d40e502154e8041c373235d2374394d737193c137fb3');
  });

  const cases: { title: string; headers: Record<string, string>; body?: string; now?: Date; reason: RegExp | 'valid' }[] = [
    { title: 'a fresh, intact delivery', headers: { 'x-tk-timestamp': String(T), 'x-tk-signature': signWebhook(SECRET, T, BODY) }, reason: 'valid' },
    { title: 'headers in any case', headers: { 'X-TK-Timestamp': String(T), 'X-TK-Signature': signWebhook(SECRET, T, BODY) }, reason: 'valid' },
    { title: 'a replay 6 minutes later', headers: { 'x-tk-timestamp': String(T), 'x-tk-signature': signWebhook(SECRET, T, BODY) }, now: new Date(NOW.getTime() + 360_000), reason: /^timestamp is 360 s from now/ },
    { title: 'a timestamp from the future', headers: { 'x-tk-timestamp': String(T + 3600), 'x-tk-signature': signWebhook(SECRET, T + 3600, BODY) }, reason: /^timestamp is -3600 s from now/ },
    { title: 'a tampered body', headers: { 'x-tk-timestamp': String(T), 'x-tk-signature': signWebhook(SECRET, T, BODY) }, body: '{"event":"release.succeeded"}', reason: /^signature does not match/ },
    { title: 'another secret', headers: { 'x-tk-timestamp': String(T), 'x-tk-signature': signWebhook('x'.repeat(32), T, BODY) }, reason: /^signature does not match/ },
    { title: 'no signature', headers: { 'x-tk-timestamp': String(T) }, reason: /^missing/ },
    { title: 'a timestamp that is no number', headers: { 'x-tk-timestamp': '2026-12-02', 'x-tk-signature': 'v1=00' }, reason: /^malformed/ },
  ];
  for (const { title, headers, body, now, reason } of cases) {
    it(`${reason === 'valid' ? 'accepts' : 'refuses'} ${title}`, () => {
      const check = verifyWebhookSignature(SECRET, headers, body ?? BODY, { now: now ?? NOW });
      if (reason === 'valid') assert.deepEqual(check, { valid: true, timestamp: T });
      else assert.match(check.valid ? 'valid' : check.reason, reason);
    });
  }
});
