import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapCaddyConfig, caddyRunCommand, renderCaddyConfig, type CaddyServer } from './render-caddy-config.js';

const unavailable = (body: string) => ({
  handle: [{ handler: 'static_response', status_code: 503, headers: { 'Content-Type': ['text/plain; charset=utf-8'] }, body: `${body}\n` }],
  terminal: true,
});

/** Every upstream a server dials. */
function dials(server: CaddyServer | undefined): string[] {
  return (server?.routes ?? []).flatMap((route) =>
    route.handle.flatMap((h) => (h.handler === 'reverse_proxy' ? (h.upstreams as { dial: string }[]).map((u) => u.dial) : [])),
  );
}

describe('renderCaddyConfig', () => {
  const config = renderCaddyConfig({
    prefix: 'tk-dev',
    live: { slot: 'blue', releaseId: 'r1' },
    staging: { slot: 'green', releaseId: 'r2' },
    graceMs: 15_000,
  });
  const servers = config.apps.http.servers;

  it('keeps the admin API on the container loopback', () => {
    assert.deepEqual(config.admin, { listen: 'localhost:2019' });
    assert.equal(config.apps.http.grace_period, '15000ms');
  });

  it('sends all public HTTP to the live web UI and only its sensor API health under /__tk/sensor-api/', () => {
    assert.deepEqual(servers['tk-public-http'], {
      listen: [':80'],
      automatic_https: { disable: true },
      routes: [
        { handle: [{ handler: 'vars', 'tk.slot': 'blue', 'tk.release': 'r1' }] },
        {
          match: [{ path: ['/__tk/sensor-api/readyz', '/__tk/sensor-api/healthz'] }],
          handle: [
            { handler: 'rewrite', strip_path_prefix: '/__tk/sensor-api' },
            { handler: 'reverse_proxy', upstreams: [{ dial: 'tk-dev-blue-sensor-api:9090' }] },
          ],
          terminal: true,
        },
        { handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: 'tk-dev-blue-web-ui:8080' }] }], terminal: true },
      ],
    });
  });

  it('serves public gRPC over h2c and proxies it to the live sensor API over h2c', () => {
    assert.deepEqual(servers['tk-public-grpc'], {
      listen: [':50051'],
      protocols: ['h1', 'h2c'],
      automatic_https: { disable: true },
      routes: [
        { handle: [{ handler: 'vars', 'tk.slot': 'blue', 'tk.release': 'r1' }] },
        {
          handle: [
            {
              handler: 'reverse_proxy',
              upstreams: [{ dial: 'tk-dev-blue-sensor-api:50051' }],
              transport: { protocol: 'http', versions: ['h2c'] },
            },
          ],
          terminal: true,
        },
      ],
    });
  });

  it('routes the staging listeners to the idle slot through the same upstream addresses', () => {
    assert.deepEqual(dials(servers['tk-staging-http']), ['tk-dev-green-web-ui:8080', 'tk-dev-green-sensor-api:9090']);
    assert.deepEqual(dials(servers['tk-staging-grpc']), ['tk-dev-green-sensor-api:50051']);
    assert.deepEqual(servers['tk-staging-http']?.listen, [':8081']);
    assert.deepEqual(servers['tk-staging-grpc']?.listen, [':50052']);
    assert.deepEqual(servers['tk-staging-grpc']?.protocols, ['h1', 'h2c']);
    const webUiRoute = servers['tk-staging-http']?.routes[1];
    assert.deepEqual(webUiRoute?.match, [{ path: ['/__tk/web-ui/*'] }]);
    assert.deepEqual(webUiRoute?.handle[0], { handler: 'rewrite', strip_path_prefix: '/__tk/web-ui' });
  });

  it('moves every public route together: no public upstream is left on the other slot', () => {
    const green = renderCaddyConfig({ prefix: 'tk-dev', live: { slot: 'green', releaseId: 'r2' }, staging: null });
    const publicDials = [...dials(green.apps.http.servers['tk-public-http']), ...dials(green.apps.http.servers['tk-public-grpc'])];
    assert.deepEqual(publicDials, ['tk-dev-green-sensor-api:9090', 'tk-dev-green-web-ui:8080', 'tk-dev-green-sensor-api:50051']);
    assert.deepEqual(green.apps.http.servers['tk-staging-http']?.routes, [unavailable('no staging slot')]);
  });

  it('answers 503 "no live release" on the public listeners before the first release', () => {
    const config = bootstrapCaddyConfig({ prefix: 'tk-dev' });
    assert.deepEqual(config, {
      admin: { listen: 'localhost:2019' },
      apps: {
        http: {
          servers: {
            'tk-public-http': { listen: [':80'], automatic_https: { disable: true }, routes: [unavailable('no live release')] },
            'tk-public-grpc': { listen: [':50051'], protocols: ['h1', 'h2c'], automatic_https: { disable: true }, routes: [unavailable('no live release')] },
            'tk-staging-http': { listen: [':8081'], automatic_https: { disable: true }, routes: [unavailable('no staging slot')] },
            'tk-staging-grpc': { listen: [':50052'], protocols: ['h1', 'h2c'], automatic_https: { disable: true }, routes: [unavailable('no staging slot')] },
          },
        },
      },
    });
  });

  it('runs Caddy from the bootstrap config, resuming the last loaded one', () => {
    assert.deepEqual(caddyRunCommand('/etc/caddy/bootstrap.json'), ['caddy', 'run', '--config', '/etc/caddy/bootstrap.json', '--resume']);
  });
});
