import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GrpcHealthAnswer, HttpAnswer } from '../../../components/health-gate/checks.js';
import { stagingChecks, stagingTargets } from './staging-gate.js';

const spec = {
  proxy: {
    container: 'tk-dev-caddy',
    publicHttpUrl: 'http://127.0.0.1:8080',
    publicGrpcAddress: '127.0.0.1:50051',
  },
};

describe('stagingTargets', () => {
  it('addresses Caddy\'s staging listeners by container name and container port, never the host-published ports', () => {
    assert.deepEqual(stagingTargets(spec), {
      webUiReadyz: 'http://tk-dev-caddy:8081/__tk/web-ui/readyz',
      sensorApiReadyz: 'http://tk-dev-caddy:8081/__tk/sensor-api/readyz',
      grpc: 'tk-dev-caddy:50052',
    });
  });
});

describe('stagingChecks', () => {
  it('asks the network probe for each staging endpoint and judges its answers for the intended release', async () => {
    const asked: string[] = [];
    const answers: Record<string, HttpAnswer> = {
      'http://tk-dev-caddy:8081/__tk/web-ui/readyz': { status: 200, body: '{"status":"ready","release":"r2"}' },
      'http://tk-dev-caddy:8081/__tk/sensor-api/readyz': { status: 200, body: '{"status":"ready","release":"r1"}' },
    };
    const probe = {
      async http(url: string, timeoutMs: number): Promise<HttpAnswer> {
        asked.push(`http ${url} ${timeoutMs}`);
        return answers[url]!;
      },
      async grpcHealth(address: string, timeoutMs: number): Promise<GrpcHealthAnswer> {
        asked.push(`grpc ${address} ${timeoutMs}`);
        return { code: 14, details: 'Received HTTP status code 502' };
      },
    };
    const checks = stagingChecks(probe, spec, 'r2');
    const outcomes = await Promise.all(checks.map(async (check) => [check.name, await check.run(1500)]));
    assert.deepEqual(outcomes, [
      ['web-ui /readyz (http://tk-dev-caddy:8081/__tk/web-ui/readyz)', { ok: true, detail: 'HTTP 200 release r2' }],
      ['sensor-api /readyz (http://tk-dev-caddy:8081/__tk/sensor-api/readyz)', { ok: false, detail: 'HTTP 200 but release "r1", not r2' }],
      ['sensor-api gRPC health (tk-dev-caddy:50052)', { ok: false, detail: 'gRPC UNAVAILABLE: Received HTTP status code 502' }],
    ]);
    assert.deepEqual(asked, [
      'http http://tk-dev-caddy:8081/__tk/web-ui/readyz 1500',
      'http http://tk-dev-caddy:8081/__tk/sensor-api/readyz 1500',
      'grpc tk-dev-caddy:50052 1500',
    ]);
  });
});
