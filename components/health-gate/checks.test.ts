import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { endpointUrl, evaluateReadyz } from './checks.js';

describe('evaluateReadyz', () => {
  it('accepts HTTP 200 reporting the intended release', () => {
    assert.deepEqual(evaluateReadyz(200, JSON.stringify({ status: 'ready', release: 'r2' }), 'r2'), { ok: true, detail: 'HTTP 200 release r2' });
  });

  it('rejects a ready container of another release (a stale slot must not pass)', () => {
    assert.deepEqual(evaluateReadyz(200, JSON.stringify({ status: 'ready', release: 'r1' }), 'r2'), {
      ok: false,
      detail: 'HTTP 200 but release "r1", not r2',
    });
    assert.equal(evaluateReadyz(200, JSON.stringify({ status: 'ready', release: null }), 'r2').ok, false);
  });

  it('rejects a non-200 answer with its status and body excerpt', () => {
    const body = JSON.stringify({ status: 'unavailable', release: 'r2', reason: 'database did not answer' });
    assert.deepEqual(evaluateReadyz(503, body, 'r2'), { ok: false, detail: `HTTP 503 ${body}` });
  });

  it('rejects a proxy error page that is not the app\'s JSON', () => {
    assert.deepEqual(evaluateReadyz(502, '', 'r2'), { ok: false, detail: 'HTTP 502, not the app\'s /readyz JSON: (empty body)' });
    assert.equal(evaluateReadyz(200, 'x'.repeat(1000), 'r2').detail.length < 400, true);
  });
});

describe('endpointUrl', () => {
  it('joins a configured base URL with or without a trailing slash', () => {
    assert.equal(endpointUrl('http://127.0.0.1:8081/', '/__tk/web-ui/readyz'), 'http://127.0.0.1:8081/__tk/web-ui/readyz');
    assert.equal(endpointUrl('https://tk.example.com', '/readyz'), 'https://tk.example.com/readyz');
  });
});
