import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, formatConfigProblem, parseStackConfig } from '../config.js';
import { dockerHostProblem, ensureDistinctPorts, ensureStackNamesDockerObjects } from './config.js';
import { CANARY_ENV, pulumiConfig } from './testing.js';

describe('docker section checks', () => {
  const accepted = ['unix:///var/run/docker.sock', 'tcp://build-box:2376', 'tcp://10.0.0.5:2375', 'ssh://deploy@tk.example.com', 'ssh://tk.example.com:2222', 'ssh://deploy@[2001:db8::1]:22'];
  for (const host of accepted) {
    it(`accepts DOCKER_HOST ${host}`, () => assert.equal(dockerHostProblem(host), undefined));
  }

  const refused: [string, RegExp][] = [
    ['/var/run/docker.sock', /^must be unix:/],
    ['npipe:////./pipe/docker_engine', /scheme npipe:\/\/ is not supported/],
    ['tcp://deploy@build-box:2376', /tcp:\/\/ takes no user/],
    ['ssh://deploy@tk.example.com/var/run/docker.sock', /no path after the host/],
    ['ssh://', /no host/],
  ];
  for (const [host, expected] of refused) {
    it(`refuses DOCKER_HOST ${host}`, () => assert.match(dockerHostProblem(host) ?? '', expected));
  }

  it('reports a port that repeats an earlier one, with a free port as the fix', () => {
    assert.deepEqual(ensureDistinctPorts({ http: 8080, grpc: 8080 }), [
      { path: 'docker.ports.grpc', problem: 'is 8080, the same host port as docker.ports.http', fix: "pulumi config set --path 'docker.ports.grpc' 8081" },
    ]);
    assert.deepEqual(ensureDistinctPorts({ http: 65535, grpc: 65535 }), [
      { path: 'docker.ports.grpc', problem: 'is 65535, the same host port as docker.ports.http', fix: "pulumi config set --path 'docker.ports.grpc' 1024" },
    ]);
    assert.deepEqual(ensureDistinctPorts({ http: 80, grpc: 50051 }), []);
  });

  it('accepts stack names that can name Docker objects and images', () => {
    for (const stack of ['dev', 'prod', 'pr-42', 'eu.prod_2']) assert.deepEqual(ensureStackNamesDockerObjects(stack), [], stack);
    for (const stack of ['Prod', 'dev--x', '-dev', 'a b']) assert.equal(ensureStackNamesDockerObjects(stack).length, 1, stack);
  });
});

describe('docker.domain: HTTPS for the stack', () => {
  const parse = (docker: Record<string, unknown>, app: Record<string, unknown> = {}) => {
    const config = parseStackConfig({ stack: 'prod', config: pulumiConfig({ provider: 'docker', docker, app }), processEnv: CANARY_ENV, envFile: { path: '.env.prod', values: {} } });
    assert.ok(config.provider === 'docker');
    return config;
  };
  const problemsOf = (docker: Record<string, unknown>, app: Record<string, unknown> = {}): string[] => {
    try {
      parse(docker, app);
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.problems.map(formatConfigProblem);
    }
    return assert.fail('the config was accepted');
  };

  it('without a domain: plain HTTP on 8080, no TLS keys', () => {
    const { docker } = parse({});
    assert.equal(docker.domain, undefined);
    assert.equal(docker.tls, undefined);
    assert.equal(docker.grpcDomain, undefined);
    assert.equal(docker.ports.http, 8080);
  });

  it('with a domain: ports 80 and 443, gRPC on the same name, certificates from Let\'s Encrypt', () => {
    const { docker } = parse({ domain: 'tk.example.com' });
    assert.deepEqual(
      { domain: docker.domain, grpcDomain: docker.grpcDomain, tls: docker.tls, acmeEmail: docker.acmeEmail, ports: docker.ports },
      { domain: 'tk.example.com', grpcDomain: 'tk.example.com', tls: 'acme', acmeEmail: undefined, ports: { http: 80, https: 443, grpc: 50051 } },
    );
  });

  it('keeps what is set: a gRPC name of its own, the internal CA, other ports', () => {
    const { docker } = parse({ domain: 'tk.example.com', grpcDomain: 'grpc.tk.example.com', tls: 'internal', ports: { http: 8080, https: 8443 } });
    assert.deepEqual(
      { grpcDomain: docker.grpcDomain, tls: docker.tls, ports: docker.ports },
      { grpcDomain: 'grpc.tk.example.com', tls: 'internal', ports: { http: 8080, https: 8443, grpc: 50051 } },
    );
  });

  it('refuses names that are not DNS names, an unknown issuer and a malformed email, with the fix', () => {
    assert.deepEqual(problemsOf({ domain: 'https://tk.example.com', grpcDomain: 'TK.example.com', tls: 'letsencrypt', acmeEmail: 'ops' }), [
      "trapperkeeper:docker.domain: must be a DNS name like tk.example.com in lowercase (no scheme, port or path); pulumi config set --path 'docker.domain' tk.example.com",
      "trapperkeeper:docker.grpcDomain: must be a DNS name like tk.example.com in lowercase (no scheme, port or path); pulumi config set --path 'docker.grpcDomain' grpc.tk.example.com",
      "trapperkeeper:docker.acmeEmail: must be an email address like ops@example.com; pulumi config set --path 'docker.acmeEmail' ops@example.com",
      "trapperkeeper:docker.tls: must be one of acme, internal; pulumi config set --path 'docker.tls' acme",
    ]);
  });

  it('refuses the domain keys without a domain, rather than ignoring them', () => {
    assert.deepEqual(problemsOf({ grpcDomain: 'grpc.tk.example.com', tls: 'internal' }), [
      "trapperkeeper:docker.grpcDomain: only applies with docker.domain, which is not set; pulumi config set --path 'docker.domain' tk.example.com (or pulumi config rm --path 'docker.grpcDomain')",
      "trapperkeeper:docker.tls: only applies with docker.domain, which is not set; pulumi config set --path 'docker.domain' tk.example.com (or pulumi config rm --path 'docker.tls')",
    ]);
    assert.deepEqual(problemsOf({ domain: 'tk.example.com', tls: 'internal', acmeEmail: 'ops@example.com' }), [
      "trapperkeeper:docker.acmeEmail: is only used with docker.tls acme (Let's Encrypt), not internal; pulumi config rm --path 'docker.acmeEmail'",
    ]);
  });

  it('refuses app.publicUrl together with a domain (the domain is the public URL)', () => {
    assert.deepEqual(problemsOf({ domain: 'tk.example.com' }, { publicUrl: 'https://other.example.com' }), [
      "trapperkeeper:app.publicUrl: is set, but docker.domain makes the public URL https://tk.example.com; set one of them; pulumi config rm --path 'app.publicUrl' (or pulumi config rm --path 'docker.domain' when a proxy in front terminates TLS)",
    ]);
  });

  it('checks the HTTPS port for collisions only when it is published (with a domain)', () => {
    assert.deepEqual(problemsOf({ domain: 'tk.example.com', ports: { grpc: 443 } }), [
      "trapperkeeper:docker.ports.grpc: is 443, the same host port as docker.ports.https; pulumi config set --path 'docker.ports.grpc' 444",
    ]);
    assert.deepEqual(problemsOf({ domain: 'tk.example.com', ports: { grpc: 80 } }), [
      "trapperkeeper:docker.ports.grpc: is 80, the same host port as docker.ports.http; pulumi config set --path 'docker.ports.grpc' 81",
    ]);
    assert.equal(parse({ ports: { http: 443 } }).docker.ports.http, 443);
  });
});
