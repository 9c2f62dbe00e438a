import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeProbeRequest, parseProbeReply } from './network-probe-protocol.js';

describe('network probe protocol', () => {
  it('encodes a request as one JSON line with its id', () => {
    assert.equal(
      encodeProbeRequest(7, { kind: 'http', url: 'http://tk-dev-caddy:8081/__tk/web-ui/readyz', timeoutMs: 2000 }),
      '{"id":7,"kind":"http","url":"http://tk-dev-caddy:8081/__tk/web-ui/readyz","timeoutMs":2000}\n',
    );
    assert.equal(
      encodeProbeRequest(8, { kind: 'grpc-health', address: 'tk-dev-caddy:50052', service: '', timeoutMs: 2000 }),
      '{"id":8,"kind":"grpc-health","address":"tk-dev-caddy:50052","service":"","timeoutMs":2000}\n',
    );
  });

  it('parses every reply shape the probe writes', () => {
    assert.deepEqual(parseProbeReply('{"ready":true}'), { ready: true });
    assert.deepEqual(parseProbeReply('{"id":1,"http":{"status":502,"body":""}}'), { id: 1, http: { status: 502, body: '' } });
    assert.deepEqual(parseProbeReply('{"id":2,"http":{"unreachable":"ENOTFOUND"}}'), { id: 2, http: { unreachable: 'ENOTFOUND' } });
    assert.deepEqual(parseProbeReply('{"id":3,"grpc":{"code":0,"details":"","status":"SERVING"}}'), {
      id: 3,
      grpc: { code: 0, details: '', status: 'SERVING' },
    });
    assert.deepEqual(parseProbeReply('{"id":4,"grpc":{"code":14,"details":"No connection established"}}'), {
      id: 4,
      grpc: { code: 14, details: 'No connection established' },
    });
    assert.deepEqual(parseProbeReply('{"id":5,"failed":"unknown probe kind \\"x\\""}'), { id: 5, failed: 'unknown probe kind "x"' });
  });

  it('ignores lines that are not replies (stray output never resolves a request)', () => {
    for (const line of ['', 'Debugger listening', '{"id":"1","http":{"status":200,"body":""}}', '{"id":1}', '{"ready":false}', '[1]']) {
      assert.equal(parseProbeReply(line), undefined, line);
    }
  });
});
