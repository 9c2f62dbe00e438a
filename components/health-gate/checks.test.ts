import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { endpointUrl, evaluateReadyz, grpcHealthOutcome, readyzOutcome } from './checks.js';

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

describe('readyzOutcome', () => {
  it('reports a probe that got no HTTP response with the socket error', () => {
    assert.deepEqual(readyzOutcome({ unreachable: 'ECONNREFUSED' }, 'r2'), { ok: false, detail: 'no HTTP response: ECONNREFUSED' });
  });

  it('judges a response like evaluateReadyz, wherever the probe ran', () => {
    assert.deepEqual(readyzOutcome({ status: 200, body: JSON.stringify({ status: 'ready', release: 'r2' }) }, 'r2'), { ok: true, detail: 'HTTP 200 release r2' });
  });
});

describe('grpcHealthOutcome', () => {
  it('accepts only OK with SERVING', () => {
    assert.deepEqual(grpcHealthOutcome({ code: 0, details: '', status: 'SERVING' }), { ok: true, detail: 'gRPC SERVING' });
    assert.deepEqual(grpcHealthOutcome({ code: 0, details: '', status: 'NOT_SERVING' }), { ok: false, detail: 'gRPC OK but status NOT_SERVING, not SERVING' });
    assert.deepEqual(grpcHealthOutcome({ code: 0, details: '' }), { ok: false, detail: 'gRPC OK but status missing, not SERVING' });
  });

  it('names the gRPC status code of an error and quotes its details', () => {
    assert.deepEqual(grpcHealthOutcome({ code: 14, details: 'Received HTTP status code 502' }), {
      ok: false,
      detail: 'gRPC UNAVAILABLE: Received HTTP status code 502',
    });
    assert.deepEqual(grpcHealthOutcome({ code: 4, details: 'Deadline exceeded' }), { ok: false, detail: 'gRPC DEADLINE_EXCEEDED: Deadline exceeded' });
  });
});
