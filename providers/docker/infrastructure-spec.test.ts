import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROXY_PORTS, bootstrapCaddyConfig } from './proxy/index.js';
import { databaseUrl, planDockerInfrastructure, planEndpoints } from './infrastructure-spec.js';
import { dockerConfig } from './testing.js';

describe('docker infrastructure spec', () => {
  const dev = planDockerInfrastructure(dockerConfig('dev'));

  it('names every object after the stack: tk-<stack>-...', () => {
    assert.equal(dev.prefix, 'tk-dev');
    assert.equal(dev.network.name, 'tk-dev-net');
    assert.deepEqual(
      Object.values(dev.volumes).map((v) => v.name),
      ['tk-dev-pgdata', 'tk-dev-snapshots', 'tk-dev-caddy-data', 'tk-dev-caddy-config'],
    );
    assert.equal(dev.postgres.name, 'tk-dev-postgres');
    assert.equal(dev.caddy.name, 'tk-dev-caddy');
  });

  it('plans PostgreSQL on the private network only, with its data and snapshot volumes and the password as a secret reference', () => {
    assert.deepEqual(dev.postgres, {
      name: 'tk-dev-postgres',
      image: 'postgres:16',
      env: { POSTGRES_DB: 'trapperkeeper', POSTGRES_USER: 'trapperkeeper' },
      secretEnv: { POSTGRES_PASSWORD: 'postgresPassword' },
      mounts: [
        { volume: 'pgdata', containerPath: '/var/lib/postgresql/data' },
        { volume: 'snapshots', containerPath: '/snapshots' },
      ],
      network: 'tk-dev-net',
      aliases: ['postgres'],
      ports: [],
      restart: 'unless-stopped',
      healthcheck: {
        shell: 'pg_isready -q -h 127.0.0.1 -p 5432 -U trapperkeeper -d trapperkeeper',
        intervalSeconds: 5,
        timeoutSeconds: 5,
        retries: 12,
        startPeriodSeconds: 30,
      },
      waitHealthySeconds: 180,
      uploads: [],
      labels: { 'tk.stack': 'dev', 'tk.role': 'postgres' },
      stopTimeoutSeconds: 60,
    });
  });

  it('plans Caddy resuming its last config, publishing only the public ports, on the bind address', () => {
    assert.deepEqual(dev.caddy, {
      name: 'tk-dev-caddy',
      image: 'caddy:2',
      command: ['caddy', 'run', '--config', '/etc/caddy/bootstrap.json', '--resume'],
      env: {},
      secretEnv: {},
      mounts: [
        { volume: 'caddyData', containerPath: '/data' },
        { volume: 'caddyConfig', containerPath: '/config' },
      ],
      network: 'tk-dev-net',
      aliases: [],
      ports: [
        { name: 'http', hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80 },
        { name: 'grpc', hostIp: '127.0.0.1', hostPort: 50051, containerPort: 50051 },
      ],
      restart: 'unless-stopped',
      uploads: [{ path: '/etc/caddy/bootstrap.json', content: `${JSON.stringify(bootstrapCaddyConfig({ prefix: 'tk-dev', graceMs: 15000 }), null, 2)}\n` }],
      labels: { 'tk.stack': 'dev', 'tk.role': 'caddy' },
      stopTimeoutSeconds: 20,
    });
  });

  it('publishes neither the staging listeners nor the admin API, even when the public ports listen everywhere', () => {
    const prod = planDockerInfrastructure(dockerConfig('prod', { docker: { host: 'ssh://deploy@tk.example.com', bindAddress: '0.0.0.0', ports: { http: 80 } } }));
    assert.deepEqual(
      prod.caddy.ports.map((p) => `${p.name} ${p.hostIp}:${p.hostPort}->${p.containerPort}`),
      ['http 0.0.0.0:80->80', 'grpc 0.0.0.0:50051->50051'],
    );
    assert.ok(!prod.caddy.ports.some((p) => ([PROXY_PORTS.stagingHttp, PROXY_PORTS.stagingGrpc, 2019] as number[]).includes(p.containerPort)));
    const bootstrap = JSON.parse(prod.caddy.uploads[0]?.content ?? '{}') as { admin: { listen: string } };
    assert.equal(bootstrap.admin.listen, 'localhost:2019');
  });

  it('retains the data volumes on destroy unless the stack is ephemeral', () => {
    assert.ok(Object.values(dev.volumes).every((v) => v.retainOnDestroy));
    const ephemeral = planDockerInfrastructure(dockerConfig('pr-42', { ephemeral: true }));
    assert.ok(Object.values(ephemeral.volumes).every((v) => !v.retainOnDestroy));
  });

  it('uses the configured images, so tests can run the offline stand-ins', () => {
    const spec = planDockerInfrastructure(dockerConfig('t', { docker: { images: { postgres: 'tk-offline/postgres:15', caddy: 'tk-offline/caddy:2' } } }));
    assert.equal(spec.postgres.image, 'tk-offline/postgres:15');
    assert.equal(spec.caddy.image, 'tk-offline/caddy:2');
  });

  const endpointCases = [
    { title: 'the local engine', docker: {}, app: {}, http: 'http://127.0.0.1:8080', grpc: '127.0.0.1:50051' },
    { title: 'an ssh host', docker: { host: 'ssh://deploy@tk.example.com:2222', bindAddress: '0.0.0.0', ports: { http: 80 } }, app: {}, http: 'http://tk.example.com:80', grpc: 'tk.example.com:50051' },
    { title: 'an IPv6 bind address', docker: { bindAddress: '::1' }, app: {}, http: 'http://[::1]:8080', grpc: '[::1]:50051' },
    { title: 'a public URL in front', docker: { host: 'tcp://10.0.0.5:2376' }, app: { publicUrl: 'https://tk.example.com' }, http: 'https://tk.example.com', grpc: 'tk.example.com:50051' },
  ];
  for (const { title, docker, app, http, grpc } of endpointCases) {
    it(`derives the public endpoints for ${title}`, () => {
      const config = dockerConfig('dev', { docker, app });
      assert.deepEqual(planEndpoints(config), {
        publicHttpUrl: http,
        publicGrpcAddress: grpc,
      });
    });
  }

  it('with a domain: publishes 80 (redirect), 443 (HTTPS) and gRPC, boots Caddy with TLS, and names the domain in the endpoints', () => {
    const config = dockerConfig('prod', { docker: { bindAddress: '0.0.0.0', domain: 'tk.example.com', grpcDomain: 'grpc.tk.example.com', acmeEmail: 'ops@example.com' } });
    const prod = planDockerInfrastructure(config);
    assert.deepEqual(
      prod.caddy.ports.map((p) => `${p.name} ${p.hostIp}:${p.hostPort}->${p.containerPort}`),
      ['http 0.0.0.0:80->80', 'https 0.0.0.0:443->443', 'grpc 0.0.0.0:50051->50051'],
    );
    const tls = { domain: 'tk.example.com', grpcDomain: 'grpc.tk.example.com', issuer: 'acme', acmeEmail: 'ops@example.com', httpsPort: 443 } as const;
    assert.deepEqual(prod.tls, tls);
    assert.equal(prod.caddy.uploads[0]?.content, `${JSON.stringify(bootstrapCaddyConfig({ prefix: 'tk-prod', graceMs: 15000, tls }), null, 2)}\n`);
    assert.deepEqual(prod.endpoints, { publicHttpUrl: 'https://tk.example.com', publicGrpcAddress: 'grpc.tk.example.com:50051' });
    // The certificates live in the caddy-data volume, which a destroy keeps (no re-issue on the next up).
    assert.deepEqual(prod.caddy.mounts[0], { volume: 'caddyData', containerPath: '/data' });
    assert.equal(prod.volumes.caddyData.retainOnDestroy, true);
  });

  it('with a domain on other ports, the HTTPS URL names the port', () => {
    const config = dockerConfig('prod', { docker: { domain: 'tk.example.com', tls: 'internal', ports: { http: 8080, https: 8443, grpc: 8051 } } });
    assert.deepEqual(planEndpoints(config), { publicHttpUrl: 'https://tk.example.com:8443', publicGrpcAddress: 'tk.example.com:8051' });
    assert.deepEqual(planDockerInfrastructure(config).tls, { domain: 'tk.example.com', grpcDomain: 'tk.example.com', issuer: 'internal', httpsPort: 8443 });
  });

  it('without a domain: no TLS and no HTTPS port, as before', () => {
    assert.equal(dev.tls, undefined);
    assert.ok(!dev.caddy.ports.some((p) => p.name === 'https'));
  });

  it('builds TK_DATABASE_URL from the network alias, escaping the password', () => {
    assert.equal(databaseUrl(dev, 'p@ss/w:rd?#'), 'postgres://trapperkeeper:p%40ss%2Fw%3Ard%3F%23@postgres:5432/trapperkeeper');
  });
});
