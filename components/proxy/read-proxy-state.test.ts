import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeployError } from '../errors.js';
import type { ProxyRouting } from './constants.js';
import { parseProxyRouting } from './read-proxy-state.js';
import { renderCaddyConfig } from './render-caddy-config.js';

/** Caddy's autosave is its own re-encoding of the loaded config (keys sorted). */
function asCaddyAutosaves(value: unknown): unknown {
  const sortKeys = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sortKeys)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sortKeys(x)]))
        : v;
  return JSON.parse(JSON.stringify(sortKeys(value)));
}

function assertNotOurs(config: unknown, pattern: RegExp): void {
  assert.throws(() => parseProxyRouting('tk-dev', config), (error: unknown) => error instanceof DeployError && pattern.test(error.message));
}

describe('parseProxyRouting', () => {
  const routings: ProxyRouting[] = [
    { live: null, staging: null },
    { live: null, staging: { slot: 'blue', releaseId: 'r1' } },
    { live: { slot: 'blue', releaseId: 'r1' }, staging: { slot: 'green', releaseId: 'r2' } },
    { live: { slot: 'green', releaseId: 'r2' }, staging: null },
  ];
  for (const routing of routings) {
    it(`reads back the routing it generated (live ${routing.live?.slot ?? 'none'}, staging ${routing.staging?.slot ?? 'none'})`, () => {
      assert.deepEqual(parseProxyRouting('tk-dev', asCaddyAutosaves(renderCaddyConfig({ prefix: 'tk-dev', ...routing }))), routing);
    });
  }

  it('refuses a config that is not the toolkit\'s (e.g. the image\'s default Caddyfile)', () => {
    assertNotOurs({ apps: { http: { servers: { srv0: { listen: [':80'], routes: [] } } } } }, /no server tk-public-http/);
    assertNotOurs({}, /no apps\.http\.servers/);
  });

  it('refuses a config whose routing marker disagrees with the upstream it proxies to', () => {
    const config = renderCaddyConfig({ prefix: 'tk-dev', live: { slot: 'blue', releaseId: 'r1' }, staging: null });
    const route = config.apps.http.servers['tk-public-http']?.routes[2];
    route!.handle[0] = { handler: 'reverse_proxy', upstreams: [{ dial: 'tk-dev-green-web-ui:8080' }] };
    assertNotOurs(config, /marked blue but proxies to tk-dev-blue-sensor-api:9090, tk-dev-green-web-ui:8080/);
  });

  it('refuses a config where public HTTP and gRPC route to different slots', () => {
    const blue = renderCaddyConfig({ prefix: 'tk-dev', live: { slot: 'blue', releaseId: 'r1' }, staging: null });
    const green = renderCaddyConfig({ prefix: 'tk-dev', live: { slot: 'green', releaseId: 'r2' }, staging: null });
    blue.apps.http.servers['tk-public-grpc'] = green.apps.http.servers['tk-public-grpc']!;
    assertNotOurs(blue, /route to different slots/);
  });
});
