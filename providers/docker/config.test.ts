import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dockerHostProblem, ensureDistinctPorts, ensureStackNamesDockerObjects } from './config.js';

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
