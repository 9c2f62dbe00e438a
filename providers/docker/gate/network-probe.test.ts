import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { DockerEngine } from '../engine.js';
import { DeployError } from '../../../components/errors.js';
import { NetworkProbe, planNetworkProbe, probeContainerName } from './network-probe.js';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

const spec = {
  stack: 'dev',
  prefix: 'tk-dev',
  network: 'tk-dev-net',
  image: { ref: 'trapperkeeper:1.4.0-3f2a9c1d-20261123T101500Z', releaseId: '1.4.0-3f2a9c1d-20261123T101500Z', version: '1.4.0', commit: '3f2a9c1d' },
};

describe('planNetworkProbe', () => {
  it('runs the probe script with node from the release image on the stack network, attached, removed on exit, without secrets or ports', () => {
    assert.deepEqual(planNetworkProbe(spec, probeContainerName('tk-dev', 'a1b2c3d4'), 'SCRIPT'), [
      'run', '--rm', '--interactive',
      '--name', 'tk-dev-gate-probe-a1b2c3d4',
      '--network', 'tk-dev-net',
      '--label', 'tk.stack=dev',
      '--label', 'tk.role=health-probe',
      '--pull', 'never',
      '--read-only',
      '--no-healthcheck',
      '--workdir', '/opt/trapperkeeper',
      '--entrypoint', 'node',
      'trapperkeeper:1.4.0-3f2a9c1d-20261123T101500Z',
      '-e', 'SCRIPT',
    ]);
  });
});

/**
 * A stand-in for the docker CLI: `run ... -e <script>` runs the script with this machine's node
 * in the repository root (where @grpc/grpc-js resolves, as in the app image), `rm` succeeds.
 * Every call is logged. `mode` makes the first `run` fail in a chosen way.
 */
function fakeDocker(dir: string, mode: 'normal' | 'missing-image' | 'first-run-hangs' | 'first-run-dies'): { engine: DockerEngine; calls(): string[][] } {
  const log = join(dir, `${mode}.calls`);
  const runs = join(dir, `${mode}.runs`);
  writeFileSync(log, '');
  writeFileSync(runs, '0');
  const binary = join(dir, `docker-${mode}.cjs`);
  writeFileSync(
    binary,
    `#!${process.execPath}
const { appendFileSync, readFileSync, writeFileSync } = require('node:fs');
const { spawn } = require('node:child_process');
const args = process.argv.slice(2);
appendFileSync(${JSON.stringify(log)}, JSON.stringify(args.map((a) => (a.length > 80 ? '<script>' : a))) + '\\n');
if (args[0] !== 'run') process.exit(0);
const run = Number(readFileSync(${JSON.stringify(runs)}, 'utf8')) + 1;
writeFileSync(${JSON.stringify(runs)}, String(run));
const mode = ${JSON.stringify(mode)};
if (mode === 'missing-image') {
  process.stderr.write("docker: Error response from daemon: No such image: " + args[args.length - 3] + "\\n");
  process.exit(125);
}
if (mode === 'first-run-hangs' && run === 1) {
  process.stdout.write('{"ready":true}\\n');
  process.stdin.resume();
  return;
}
const node = spawn(process.execPath, ['-e', args[args.length - 1]], { cwd: ${JSON.stringify(REPO_ROOT)}, stdio: ['inherit', 'pipe', 'inherit'] });
node.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  // Dies once it has answered ready, however long a busy machine took to start it.
  if (mode === 'first-run-dies' && run === 1 && String(chunk).includes('"ready"')) {
    setTimeout(() => { process.stderr.write('killed by the test\\n'); node.kill(); process.exit(137); }, 400);
  }
});
node.on('exit', (code) => process.exit(code ?? 1));
`,
  );
  chmodSync(binary, 0o755);
  return {
    engine: new DockerEngine({ binary }),
    calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as string[]),
  };
}

describe('NetworkProbe (the probe script behind a stand-in docker CLI)', () => {
  let dir: string;
  let http: Server;
  let httpBase: string;
  let grpcServer: grpc.Server;
  let grpcAddress: string;
  /** A loopback port nothing listens on. */
  let closedPort: number;

  before(async () => {
    const unused = createServer();
    await new Promise<void>((resolve) => unused.listen(0, '127.0.0.1', resolve));
    closedPort = (unused.address() as AddressInfo).port;
    await new Promise((resolve) => unused.close(resolve));
    dir = mkdtempSync(join(tmpdir(), 'tk-network-probe-'));
    http = createServer((request, response) => {
      if (request.url === '/slow') {
        setTimeout(() => response.writeHead(200).end('late'), 3000).unref();
      } else if (request.url === '/readyz') {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ready', release: 'r1' }));
      } else {
        response.writeHead(502).end();
      }
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    httpBase = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

    const definition = protoLoader.loadSync(fileURLToPath(new URL('../../../components/health-gate/health.proto', import.meta.url)), { enums: String, defaults: true });
    const health = (grpc.loadPackageDefinition(definition) as unknown as { grpc: { health: { v1: { Health: { service: grpc.ServiceDefinition } } } } }).grpc
      .health.v1.Health;
    grpcServer = new grpc.Server();
    grpcServer.addService(health.service, {
      Check(call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<{ status: string }>) {
        callback(null, { status: call.request.service === 'draining' ? 'NOT_SERVING' : 'SERVING' });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    grpcAddress = `127.0.0.1:${port}`;
  });

  after(async () => {
    grpcServer?.forceShutdown();
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers HTTP and gRPC health probes with what the endpoints said, then exits when closed', async () => {
    const docker = fakeDocker(dir, 'normal');
    const probe = await NetworkProbe.start(docker.engine, spec);
    try {
      const [ready, badGateway, refused, serving, notServing, unavailable] = await Promise.all([
        probe.http(`${httpBase}/readyz`, 2000),
        probe.http(`${httpBase}/other`, 2000),
        probe.http(`http://127.0.0.1:${closedPort}/readyz`, 2000),
        probe.grpcHealth(grpcAddress, 2000),
        probe.grpcHealth(grpcAddress, 2000, 'draining'),
        probe.grpcHealth(`127.0.0.1:${closedPort}`, 1000),
      ]);
      assert.deepEqual(ready, { status: 200, body: '{"status":"ready","release":"r1"}' });
      assert.deepEqual(badGateway, { status: 502, body: '' });
      assert.deepEqual(refused, { unreachable: 'ECONNREFUSED' });
      assert.deepEqual(serving, { code: 0, details: '', status: 'SERVING' });
      assert.deepEqual(notServing, { code: 0, details: '', status: 'NOT_SERVING' });
      assert.equal(unavailable.code, grpc.status.UNAVAILABLE);
    } finally {
      await probe.close();
    }
    await assert.rejects(probe.http(`${httpBase}/readyz`, 1000), /the network probe is closed/);
    const runs = docker.calls().filter((args) => args[0] === 'run');
    assert.equal(runs.length, 1);
    assert.match(runs[0]![runs[0]!.indexOf('--name') + 1]!, /^tk-dev-gate-probe-[0-9a-f]{8}$/);
    assert.deepEqual(docker.calls().filter((args) => args[0] === 'rm'), [], 'a probe that exits on its own needs no docker rm');
  });

  it('a probe container that cannot start fails with docker\'s error and the commands that find out why', async () => {
    const docker = fakeDocker(dir, 'missing-image');
    await assert.rejects(NetworkProbe.start(docker.engine, spec), (error: unknown) => {
      assert.ok(error instanceof DeployError);
      assert.match(error.message, /^The health gate's probe container could not start on the network tk-dev-net: docker run exited with 125: docker: Error response from daemon: No such image: trapperkeeper:1\.4\.0/);
      assert.equal(error.fix, 'check the network and the release image on the Docker host: docker network inspect tk-dev-net; docker run --rm --network tk-dev-net --entrypoint node trapperkeeper:1.4.0-3f2a9c1d-20261123T101500Z --version');
      return true;
    });
  });

  it('a probe container that stops answering is removed and replaced at the next request', async () => {
    const docker = fakeDocker(dir, 'first-run-hangs');
    const probe = await NetworkProbe.start(docker.engine, spec, { answerMarginMs: 300 });
    try {
      const started = performance.now();
      await assert.rejects(probe.http(`${httpBase}/readyz`, 200), /^Error: no answer from the probe container tk-dev-gate-probe-[0-9a-f]{8} within 500 ms; it is replaced$/);
      assert.ok(performance.now() - started < 2000);
      assert.deepEqual(await probe.http(`${httpBase}/readyz`, 2000), { status: 200, body: '{"status":"ready","release":"r1"}' });
    } finally {
      await probe.close();
    }
    const calls = docker.calls();
    const names = calls.filter((args) => args[0] === 'run').map((args) => args[args.indexOf('--name') + 1]);
    assert.equal(names.length, 2);
    assert.notEqual(names[0], names[1]);
    assert.deepEqual(calls.filter((args) => args[0] === 'rm'), [['rm', '--force', '--volumes', names[0]]]);
  });

  it('a probe container that exits fails the requests in flight with its error, and the next request starts a new one', async () => {
    const docker = fakeDocker(dir, 'first-run-dies');
    const probe = await NetworkProbe.start(docker.engine, spec);
    try {
      // A request the server answers only after the container died.
      await assert.rejects(probe.http(`${httpBase}/slow`, 5000), /^Error: the probe container tk-dev-gate-probe-[0-9a-f]{8} exited with 137: killed by the test$/);
      assert.deepEqual(await probe.grpcHealth(grpcAddress, 2000), { code: 0, details: '', status: 'SERVING' });
    } finally {
      await probe.close();
    }
    assert.equal(docker.calls().filter((args) => args[0] === 'run').length, 2);
  });
});
