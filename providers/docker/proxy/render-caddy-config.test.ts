import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapCaddyConfig, caddyRunCommand, renderCaddyConfig, type CaddyServer } from './render-caddy-config.js';

const config = renderCaddyConfig({ prefix: 'tk-dev', graceMs: 15_000 });
const servers = config.apps.http.servers;
const marker = (name: string) => ({ file: { root: '/config/tk-routing', try_files: [`/${name}`] } });
const unavailable = (body: string) => ({
  handle: [{ handler: 'static_response', status_code: 503, headers: { 'Content-Type': ['text/plain; charset=utf-8'] }, body: `${body}\n` }],
  terminal: true,
});

/** Every upstream a server dials while `name` is the routing marker. */
function dialsWhile(server: CaddyServer | undefined, name: string): string[] {
  return (server?.routes ?? [])
    .filter((route) => JSON.stringify(route.match ?? []).includes(`"/${name}"`))
    .flatMap((route) => route.handle.flatMap((h) => (h.handler === 'reverse_proxy' ? (h.upstreams as { dial: string }[]).map((u) => u.dial) : [])));
}

describe('renderCaddyConfig', () => {
  it('keeps the admin API on the container loopback and lets old connections finish within the drain', () => {
    assert.deepEqual(config.admin, { listen: 'localhost:2019' });
    assert.equal(config.apps.http.grace_period, '15000ms');
  });

  it('routes public HTTP by the live marker: the web UI, and only the sensor API health under /__tk/sensor-api/ (no keep-alive there)', () => {
    const health = { path: ['/__tk/sensor-api/readyz', '/__tk/sensor-api/healthz'] };
    const strip = { handler: 'rewrite', strip_path_prefix: '/__tk/sensor-api' };
    // No pooled connections to the health port: they would hold the sensor API open while it drains.
    const noKeepAlive = { protocol: 'http', keep_alive: { enabled: false } };
    assert.deepEqual(servers['tk-public-http'], {
      listen: [':80'],
      automatic_https: { disable: true },
      routes: [
        {
          match: [{ ...marker('live-blue'), ...health }],
          handle: [strip, { handler: 'reverse_proxy', upstreams: [{ dial: 'tk-dev-blue-sensor-api:9090' }], transport: noKeepAlive }],
          terminal: true,
        },
        { match: [marker('live-blue')], handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: 'tk-dev-blue-web-ui:8080' }] }], terminal: true },
        {
          match: [{ ...marker('live-green'), ...health }],
          handle: [strip, { handler: 'reverse_proxy', upstreams: [{ dial: 'tk-dev-green-sensor-api:9090' }], transport: noKeepAlive }],
          terminal: true,
        },
        { match: [marker('live-green')], handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: 'tk-dev-green-web-ui:8080' }] }], terminal: true },
        // blue once more: see the lookup-order test below.
        {
          match: [{ ...marker('live-blue'), ...health }],
          handle: [strip, { handler: 'reverse_proxy', upstreams: [{ dial: 'tk-dev-blue-sensor-api:9090' }], transport: noKeepAlive }],
          terminal: true,
        },
        { match: [marker('live-blue')], handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: 'tk-dev-blue-web-ui:8080' }] }], terminal: true },
        unavailable('no live release'),
      ],
    });
  });

  it('serves public gRPC over h2c and proxies it over h2c to the sensor API of the live slot', () => {
    const h2c = { protocol: 'http', versions: ['h2c'] };
    assert.deepEqual(servers['tk-public-grpc'], {
      listen: [':50051'],
      protocols: ['h1', 'h2c'],
      automatic_https: { disable: true },
      routes: [
        { match: [marker('live-blue')], handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: 'tk-dev-blue-sensor-api:50051' }], transport: h2c }], terminal: true },
        { match: [marker('live-green')], handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: 'tk-dev-green-sensor-api:50051' }], transport: h2c }], terminal: true },
        { match: [marker('live-blue')], handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: 'tk-dev-blue-sensor-api:50051' }], transport: h2c }], terminal: true },
        unavailable('no live release'),
      ],
    });
  });

  it('moves every public route with the one live marker: no public upstream of the other slot', () => {
    for (const [slot, other] of [['blue', 'green'], ['green', 'blue']]) {
      const dials = new Set([...dialsWhile(servers['tk-public-http'], `live-${slot}`), ...dialsWhile(servers['tk-public-grpc'], `live-${slot}`)]);
      assert.deepEqual([...dials], [`tk-dev-${slot}-sensor-api:9090`, `tk-dev-${slot}-web-ui:8080`, `tk-dev-${slot}-sensor-api:50051`]);
      assert.ok([...dials].every((dial) => !dial.includes(other!)));
    }
  });

  it('finds a slot at every moment of a switch: a marker renamed between two of its lookups is found by a later one', () => {
    // Caddy takes the first route whose matchers match; a marker matcher stats its file when the
    // route is tried. A switch renames `<role>-<from>` to `<role>-<to>` at one moment: routes tried
    // before it see the old name, routes tried after it the new one.
    const markerOf = (route: { match?: Record<string, unknown>[] }) =>
      (route.match?.[0]?.file as { try_files: string[] } | undefined)?.try_files[0]?.slice(1);
    const cases = [
      ['tk-public-http', 'live'],
      ['tk-public-grpc', 'live'],
      ['tk-staging-http', 'staging'],
      ['tk-staging-grpc', 'staging'],
    ] as const;
    for (const [server, role] of cases) {
      // The lookups one request makes: one per route with a marker (for the web UI's path on HTTP,
      // each slot's pair of routes stats the same file, so one lookup per slot).
      const lookups = (servers[server]?.routes ?? []).map(markerOf).filter((name): name is string => name !== undefined);
      const distinct = lookups.filter((name, i) => name !== lookups[i - 1]);
      for (const [from, to] of [['blue', 'green'], ['green', 'blue']]) {
        for (let renamedBefore = 0; renamedBefore <= distinct.length; renamedBefore += 1) {
          const found = distinct.findIndex((name, i) => name === `${role}-${i < renamedBefore ? from : to}`);
          assert.ok(found >= 0, `${server}: a rename ${from} -> ${to} before lookup ${renamedBefore} of ${distinct.join(', ')} finds no slot`);
        }
      }
    }
  });

  it('routes the staging listeners by the staging marker through the same upstream addresses, prefixes stripped', () => {
    assert.deepEqual(dialsWhile(servers['tk-staging-http'], 'staging-green'), ['tk-dev-green-web-ui:8080', 'tk-dev-green-sensor-api:9090']);
    assert.deepEqual(dialsWhile(servers['tk-staging-grpc'], 'staging-green'), ['tk-dev-green-sensor-api:50051']);
    assert.deepEqual(servers['tk-staging-http']?.listen, [':8081']);
    assert.deepEqual(servers['tk-staging-grpc']?.listen, [':50052']);
    assert.deepEqual(servers['tk-staging-grpc']?.protocols, ['h1', 'h2c']);
    assert.deepEqual(servers['tk-staging-http']?.routes[0], {
      match: [{ ...marker('staging-blue'), path: ['/__tk/web-ui/*'] }],
      handle: [{ handler: 'rewrite', strip_path_prefix: '/__tk/web-ui' }, { handler: 'reverse_proxy', upstreams: [{ dial: 'tk-dev-blue-web-ui:8080' }] }],
      terminal: true,
    });
    assert.deepEqual(servers['tk-staging-http']?.routes.at(-1), unavailable('no staging slot (or not a staging path)'));
  });

  it('is the bootstrap config: with no marker yet, the public listeners answer 503 "no live release"', () => {
    assert.deepEqual(bootstrapCaddyConfig({ prefix: 'tk-dev', graceMs: 15_000 }), config);
    assert.deepEqual(renderCaddyConfig({ prefix: 'tk-dev' }).apps.http.grace_period, undefined);
  });

  it('runs Caddy from the bootstrap config, resuming the last loaded one', () => {
    assert.deepEqual(caddyRunCommand('/etc/caddy/bootstrap.json'), ['caddy', 'run', '--config', '/etc/caddy/bootstrap.json', '--resume']);
  });
});
