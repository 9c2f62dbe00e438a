import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as http2 from 'node:http2';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { parseStackConfig } from '../../config.js';
import { CANARY_ENV, pulumiConfig } from '../../docker/testing.js';
import { NAME_LIMITS, planGcpInfrastructure, type GcpServiceSpec } from '../infrastructure-spec.js';
import { placeholderTemplate } from './placeholder-template.js';

const IMAGE = 'europe-west1-docker.pkg.dev/tk-prod-123456/trapperkeeper/trapperkeeper:0.2.0-89abcdef-20261203T101500Z';

function servicesOf(stack: string): Record<'sensor-api' | 'web-ui', GcpServiceSpec> {
  const config = parseStackConfig({
    stack,
    config: pulumiConfig({ provider: 'gcp', gcp: { project: 'tk-prod-123456', projectNumber: 123456789012, region: 'europe-west1' } }),
    processEnv: CANARY_ENV,
    envFile: { path: `.env.${stack}`, values: {} },
  });
  assert.ok(config.provider === 'gcp');
  return planGcpInfrastructure(config).services;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

const running: ChildProcess[] = [];
/** Runs the placeholder's container command with this machine's Node, as Cloud Run runs it in the image (PORT set to the container port). */
async function runPlaceholder(service: GcpServiceSpec): Promise<string> {
  const [container] = placeholderTemplate(service, IMAGE).containers;
  assert.deepEqual(container!.commands, ['node']);
  const port = await freePort();
  const child = spawn(process.execPath, container!.args, { env: { PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  running.push(child);
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  assert.match(line.toString(), new RegExp(`placeholder of ${service.name} listening on ${port}`));
  return `http://127.0.0.1:${port}`;
}

describe('the placeholder revision a Cloud Run service is created with (before any release)', () => {
  after(() => {
    for (const child of running) child.kill('SIGTERM');
  });

  it('runs the release image\'s Node with its own server: no database, no secret, no environment at all, no volume, TCP probe on the service\'s port, one instance at most', () => {
    const services = servicesOf('prod');
    for (const service of Object.values(services)) {
      const template = placeholderTemplate(service, IMAGE);
      assert.equal(template.revision, `${service.name}-placeholder`);
      assert.deepEqual(template.scaling, { minInstanceCount: 0, maxInstanceCount: 1 });
      assert.deepEqual(Object.keys(template).sort(), ['containers', 'revision', 'scaling'], 'no volumes, no VPC access, no service-level env');
      assert.equal(template.containers.length, 1);
      const container = template.containers[0]!;
      assert.equal(container.image, IMAGE);
      assert.deepEqual(Object.keys(container).sort(), ['args', 'commands', 'image', 'ports', 'startupProbe'], 'no envs, no volume mounts');
      assert.deepEqual([container.args[0], ...container.args.slice(2)], ['-e', service.portName, service.name]);
      assert.deepEqual(container.ports, { name: service.portName, containerPort: service.containerPort });
      assert.deepEqual(container.startupProbe, { tcpSocket: { port: service.containerPort }, periodSeconds: 2, failureThreshold: 30 });
      assert.doesNotMatch(container.args[1]!, /TK_|DATABASE|require\('(?!node:)/, 'the server reads no app variable and loads nothing but Node\'s own modules');
    }
    assert.deepEqual([services['sensor-api'].portName, services['web-ui'].portName], ['h2c', 'http1'], 'sensor-api stays HTTP/2 end to end');
    for (const service of Object.values(servicesOf('a'.repeat(23)))) assert.ok(placeholderTemplate(service, IMAGE).revision.length <= 63, 'within Cloud Run\'s revision name limit');
    assert.ok(NAME_LIMITS.cloudRunService + '-placeholder'.length <= 63);
  });

  it('web-ui: every request gets 503 and a text saying no release is live yet', async () => {
    const service = servicesOf('prod')['web-ui'];
    const url = await runPlaceholder(service);
    for (const [path, method] of [['/', 'GET'], ['/readyz', 'GET'], ['/api/v1/login', 'POST']] as const) {
      const response = await fetch(`${url}${path}`, { method, signal: AbortSignal.timeout(5000) });
      assert.equal(response.status, 503, `${method} ${path}`);
      assert.equal(response.headers.get('cache-control'), 'no-store');
      assert.match(await response.text(), /^No release of tk-prod-web-ui is live yet: this is the placeholder revision/);
    }
  });

  it('sensor-api (h2c): a gRPC call fails UNAVAILABLE with the text; any other HTTP/2 request gets 503', async () => {
    const service = servicesOf('prod')['sensor-api'];
    const url = await runPlaceholder(service);
    const client = new grpc.Client(url.replace('http://', ''), grpc.credentials.createInsecure());
    try {
      const error = await new Promise<grpc.ServiceError>((resolve, reject) =>
        client.makeUnaryRequest('/grpc.health.v1.Health/Check', (value: Buffer) => value, (value: Buffer) => value, Buffer.alloc(0), (failure, value) => (failure ? resolve(failure) : reject(new Error(`answered ${String(value)}`)))),
      );
      assert.equal(error.code, grpc.status.UNAVAILABLE);
      assert.match(error.details, /^No release of tk-prod-sensor-api is live yet: this is the placeholder revision the service was created with\./);
    } finally {
      client.close();
    }
    const session = http2.connect(url);
    try {
      const stream = session.request({ ':path': '/', ':method': 'GET' });
      const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
      let body = '';
      for await (const chunk of stream) body += String(chunk);
      assert.equal(headers[':status'], 503);
      assert.match(body, /^No release of tk-prod-sensor-api is live yet/);
    } finally {
      session.close();
    }
  });
});
