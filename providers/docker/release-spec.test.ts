import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from '../release-command.js';
import { releaseCaddyConfig, sameCaddyConfig } from './proxy/index.js';
import { planDockerInfrastructure } from './infrastructure-spec.js';
import { planReleaseSpec, specHash } from './release-spec.js';
import { CANARY, dockerConfig } from './testing.js';

const IMAGE = {
  ref: 'tk-prod/trapperkeeper:1.4.0-0123abcd-20261123T101500Z',
  releaseId: '1.4.0-0123abcd-20261123T101500Z',
  version: '1.4.0',
  commit: '0123abcd'.padEnd(40, 'e'),
};

describe('release spec', () => {
  it('is planned from the validated config, the infrastructure names and the image', () => {
    const config = dockerConfig('prod', {
      docker: { host: 'ssh://deploy@tk.example.com', bindAddress: '0.0.0.0', ports: { http: 80 } },
      app: { logLevel: 'warn' },
      release: { gate: { successes: 5, intervalMs: 2000, timeoutMs: 120000 }, drainTimeoutMs: 30000, standby: 'stopped', keepReleases: 4, lockWaitMs: 5000 },
      snapshots: { retentionDays: 14, lockWaitTimeoutMs: 10000 },
      database: { name: 'tk', user: 'tk_app' },
    });
    const spec = planReleaseSpec(config, IMAGE);
    assert.match(spec.image.releaseId, /^1\.4\.0-0123abcd-20261123T101500Z\+cfg\.[0-9a-f]{8}$/);
    assert.deepEqual(spec, {
      stack: 'prod',
      prefix: 'tk-prod',
      dockerHost: 'ssh://deploy@tk.example.com',
      network: 'tk-prod-net',
      image: { ...IMAGE, releaseId: spec.image.releaseId },
      appEnv: { TK_LOG_LEVEL: 'warn' },
      secretEnv: ['TK_DATABASE_URL', 'TK_HMAC_SECRET'],
      database: { container: 'tk-prod-postgres', name: 'tk', user: 'tk_app' },
      snapshots: { dir: '/snapshots', retentionDays: 14, lockWaitTimeoutMs: 10000 },
      proxy: {
        container: 'tk-prod-caddy',
        publicHttpUrl: 'http://tk.example.com:80',
        publicGrpcAddress: 'tk.example.com:50051',
      },
      gate: { successes: 5, intervalMs: 2000, timeoutMs: 120000 },
      drainTimeoutMs: 30000,
      standby: 'stopped',
      keepReleases: 4,
      lock: { waitMs: 5000 },
      ephemeral: false,
    });
  });

  it('carries the TLS of the public listeners with a domain, so every release renders Caddy\'s config as the stack booted it', () => {
    const config = dockerConfig('prod', { docker: { domain: 'tk.example.com', tls: 'internal' } });
    const spec = planReleaseSpec(config, IMAGE);
    assert.deepEqual(spec.proxy, {
      container: 'tk-prod-caddy',
      publicHttpUrl: 'https://tk.example.com',
      publicGrpcAddress: 'tk.example.com:50051',
      tls: { domain: 'tk.example.com', grpcDomain: 'tk.example.com', issuer: 'internal', httpsPort: 443 },
    });
    assert.equal(planReleaseSpec(dockerConfig('prod'), IMAGE).proxy.tls, undefined);
  });

  it('renders the very config Caddy boots with, with or without a domain: a release loads no new config', () => {
    for (const docker of [{}, { domain: 'tk.example.com', grpcDomain: 'grpc.tk.example.com', acmeEmail: 'ops@example.com' }]) {
      const config = dockerConfig('prod', { docker });
      const booted = JSON.parse(planDockerInfrastructure(config).caddy.uploads[0]?.content ?? '') as unknown;
      assert.equal(sameCaddyConfig(booted, releaseCaddyConfig(planReleaseSpec(config, IMAGE))), true, JSON.stringify(docker));
    }
  });

  it('gives a config-only change a new release id, and the same config the same id', () => {
    const base = planReleaseSpec(dockerConfig('dev'), IMAGE);
    assert.equal(planReleaseSpec(dockerConfig('dev'), IMAGE).image.releaseId, base.image.releaseId);
    const changed = planReleaseSpec(dockerConfig('dev', { app: { logLevel: 'warn' } }), IMAGE);
    assert.notEqual(changed.image.releaseId, base.image.releaseId);
    assert.equal(changed.image.releaseId.split('+')[0], base.image.releaseId.split('+')[0]);
  });

  it('holds no secret value, only the names of the secret variables', () => {
    const json = canonicalJson(planReleaseSpec(dockerConfig('dev'), IMAGE));
    assert.ok(!json.includes(CANARY.postgresPassword));
    assert.ok(!json.includes(CANARY.hmacSecret));
    assert.match(json, /"secretEnv":\["TK_DATABASE_URL","TK_HMAC_SECRET"\]/);
  });

  it('hashes equal specs equally whatever their key order, and different ones differently', () => {
    const spec = planReleaseSpec(dockerConfig('dev'), IMAGE);
    const reordered = Object.fromEntries(Object.entries(spec).reverse()) as typeof spec;
    assert.equal(specHash(reordered), specHash(spec));
    assert.notEqual(specHash({ ...spec, drainTimeoutMs: 1 }), specHash(spec));
  });
});
