import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PublicTls } from '../spec.js';
import { certificateNames } from './public-tls.js';
import { renderCaddyConfig } from './render-caddy-config.js';

const acme: PublicTls = { domain: 'tk.example.com', grpcDomain: 'grpc.tk.example.com', issuer: 'acme', acmeEmail: 'ops@example.com', httpsPort: 443 };
const plain = renderCaddyConfig({ prefix: 'tk-prod', graceMs: 30_000 });
const secure = renderCaddyConfig({ prefix: 'tk-prod', graceMs: 30_000, tls: acme });
const servers = secure.apps.http.servers;

describe('renderCaddyConfig with a domain (HTTPS and gRPC over TLS)', () => {
  it('serves the public web routes on 443 with TLS and HSTS first, HTTP/1.1 and HTTP/2 only (no UDP for HTTP/3)', () => {
    const https = servers['tk-public-http'];
    assert.deepEqual(https?.listen, [':443']);
    assert.deepEqual(https?.protocols, ['h1', 'h2']);
    assert.deepEqual(https?.tls_connection_policies, [{}]);
    assert.deepEqual(https?.automatic_https, { disable: true });
    assert.deepEqual(https?.routes[0], {
      handle: [{ handler: 'headers', response: { set: { 'Strict-Transport-Security': ['max-age=31536000'] }, deferred: true } }],
    });
    // Behind HSTS, exactly the routes of the plain config: the same markers and upstreams.
    assert.deepEqual(https?.routes.slice(1), plain.apps.http.servers['tk-public-http']?.routes);
  });

  it('redirects every plain HTTP request on 80 to HTTPS, keeping host, path and query', () => {
    assert.deepEqual(servers['tk-public-redirect'], {
      listen: [':80'],
      automatic_https: { disable: true },
      routes: [
        {
          handle: [{ handler: 'static_response', status_code: 308, headers: { Location: ['https://{http.request.host}{http.request.uri}'] } }],
          terminal: true,
        },
      ],
    });
    const elsewhere = renderCaddyConfig({ prefix: 'tk-prod', tls: { ...acme, httpsPort: 8443 } }).apps.http.servers['tk-public-redirect'];
    assert.deepEqual(elsewhere?.routes[0]?.handle[0]?.headers, { Location: ['https://{http.request.host}:8443{http.request.uri}'] });
  });

  it('serves public gRPC over TLS on its port, to the same h2c upstreams', () => {
    const grpc = servers['tk-public-grpc'];
    assert.deepEqual(grpc?.listen, [':50051']);
    assert.deepEqual(grpc?.protocols, ['h1', 'h2']);
    assert.deepEqual(grpc?.tls_connection_policies, [{}]);
    assert.deepEqual(grpc?.routes, plain.apps.http.servers['tk-public-grpc']?.routes);
  });

  it('leaves the staging listeners plain: only the health gate reaches them, inside the stack network', () => {
    assert.deepEqual(servers['tk-staging-http'], plain.apps.http.servers['tk-staging-http']);
    assert.deepEqual(servers['tk-staging-grpc'], plain.apps.http.servers['tk-staging-grpc']);
    assert.deepEqual(secure.admin, plain.admin);
    assert.equal(secure.apps.http.grace_period, '30000ms');
  });

  it('has Caddy obtain and renew a certificate for each name from Let\'s Encrypt, with the contact email', () => {
    assert.deepEqual(secure.apps.tls, {
      certificates: { automate: ['tk.example.com', 'grpc.tk.example.com'] },
      automation: { policies: [{ subjects: ['tk.example.com', 'grpc.tk.example.com'], issuers: [{ module: 'acme', email: 'ops@example.com' }] }] },
    });
    assert.equal(secure.apps.pki, undefined);
  });

  it('with the internal issuer, signs with Caddy\'s local CA and installs its root nowhere', () => {
    const internal = renderCaddyConfig({ prefix: 'tk-test', tls: { domain: 'tk.localhost', grpcDomain: 'tk.localhost', issuer: 'internal', httpsPort: 443 } });
    assert.deepEqual(internal.apps.tls, {
      certificates: { automate: ['tk.localhost'] },
      automation: { policies: [{ subjects: ['tk.localhost'], issuers: [{ module: 'internal' }] }] },
    });
    assert.deepEqual(internal.apps.pki, { certificate_authorities: { local: { install_trust: false } } });
  });

  it('holds one certificate when gRPC uses the web domain', () => {
    assert.deepEqual(certificateNames({ ...acme, grpcDomain: acme.domain }), ['tk.example.com']);
    assert.deepEqual(certificateNames(acme), ['tk.example.com', 'grpc.tk.example.com']);
  });

  it('without a domain, is exactly the plain config: no TLS app, no redirect server', () => {
    assert.equal(plain.apps.tls, undefined);
    assert.equal(plain.apps.http.servers['tk-public-redirect'], undefined);
    assert.deepEqual(Object.keys(plain.apps), ['http']);
  });
});
