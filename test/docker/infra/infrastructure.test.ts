import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PROXY_PORTS } from '../../../providers/docker/proxy/index.js';
import { databaseUrl, planDockerInfrastructure } from '../../../providers/docker/infrastructure-spec.js';
import { dockerConfig } from '../../../providers/docker/testing.js';
import { type InfrastructureHandle, planContainerCreate, standUpInfrastructure } from '../../support/docker-infra.js';
import { TEST_IMAGES, requireDocker, testEngine, uniqueName } from '../../support/images.js';

const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-with:odd@chars/`;

async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}

async function get(port: number): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000) });
  return { status: response.status, body: await response.text() };
}

/** `GET /` from a throwaway container on the stack network (the base image has bash but no HTTP client). */
async function getFromNetwork(network: string, host: string, port: number): Promise<{ status: number; body: string }> {
  const request = `exec 3<>/dev/tcp/${host}/${port} && printf 'GET / HTTP/1.0\\r\\nHost: ${host}\\r\\n\\r\\n' >&3 && cat <&3`;
  const response = await testEngine.run(['run', '--rm', '--network', network, TEST_IMAGES.base, 'bash', '-c', request], { timeoutMs: 30_000 });
  const split = response.indexOf('\r\n\r\n');
  const status = /^HTTP\/1\.[01] (\d{3}) /.exec(response)?.[1];
  if (split < 0 || status === undefined) throw new Error(`Not an HTTP response from ${host}:${port}: ${JSON.stringify(response.slice(0, 200))}`);
  return { status: Number(status), body: response.slice(split + 4) };
}

describe('the stack infrastructure, stood up from the plan the Pulumi program declares', () => {
  const stack = uniqueName('tkinfra');
  const config = dockerConfig(stack, {
    docker: { images: { postgres: TEST_IMAGES.postgres, caddy: TEST_IMAGES.caddy } },
    database: { name: 'tk_infra', user: 'tk_app' },
    release: { drainTimeoutMs: 1000 },
    ephemeral: true,
  });
  const spec = planDockerInfrastructure(config);
  let infra: InfrastructureHandle | undefined;

  before(async () => {
    await requireDocker();
    infra = await standUpInfrastructure(spec, { secrets: { postgresPassword: PASSWORD } });
  });

  after(async () => {
    await infra?.tearDown();
  });

  it('never puts the database password on a command line', () => {
    const argv = planContainerCreate(spec.postgres, spec, { ephemeralPorts: true });
    assert.ok(!argv.join(' ').includes(PASSWORD));
    assert.ok(argv.includes('POSTGRES_PASSWORD'));
  });

  it('runs PostgreSQL healthy by its own health check, with its data in the pgdata volume and the snapshot volume mounted', async () => {
    assert.ok(infra);
    const status = await eventually('PostgreSQL healthy', 90_000, async () => {
      const state = (await testEngine.run(['inspect', '-f', '{{.State.Health.Status}}', infra!.containers.postgres])).trim();
      return state === 'healthy' ? state : undefined;
    });
    assert.equal(status, 'healthy');
    await testEngine.run(['exec', infra.containers.postgres, 'pg_isready', '-h', '127.0.0.1', '-U', 'tk_app', '-d', 'tk_infra']);
    const mounts = await testEngine.run(['inspect', '-f', '{{range .Mounts}}{{.Name}}:{{.Destination}} {{end}}', infra.containers.postgres]);
    assert.deepEqual(mounts.trim().split(' ').sort(), [`tk-${stack}-pgdata:/var/lib/postgresql/data`, `tk-${stack}-snapshots:/snapshots`]);
    await testEngine.run(['exec', infra.containers.postgres, 'test', '-f', '/var/lib/postgresql/data/PG_VERSION']);
  });

  it('lets a container on the stack network log in with TK_DATABASE_URL (alias postgres, user, database, password)', async () => {
    assert.ok(infra);
    const url = databaseUrl(spec, PASSWORD);
    const out = await eventually('a login over the network', 60_000, async () =>
      testEngine.run(
        ['run', '--rm', '--network', infra!.network, '-e', 'TK_DATABASE_URL', TEST_IMAGES.postgres, 'sh', '-c', 'psql "$TK_DATABASE_URL" -X -A -t -c "select current_user, current_database()"'],
        { env: { TK_DATABASE_URL: url }, timeoutMs: 30_000 },
      ),
    );
    assert.equal(out.trim(), 'tk_app|tk_infra');
  });

  it('answers 503 "no live release" on the public listeners, published on 127.0.0.1 only', async () => {
    assert.ok(infra);
    const ports = infra.ports;
    const publicHttp = await eventually('Caddy answering', 30_000, () => get(ports.http));
    assert.deepEqual(publicHttp, { status: 503, body: 'no live release\n' });
    assert.deepEqual(await get(ports.grpc), { status: 503, body: 'no live release\n' });

    const published = (await testEngine.run(['port', infra.containers.caddy])).trim().split('\n').sort();
    assert.deepEqual(
      published.map((line) => line.split(' ')[0]),
      [`${PROXY_PORTS.publicHttp}/tcp`, `${PROXY_PORTS.publicGrpc}/tcp`].sort(),
      `only the two public listeners are published: ${published.join(', ')}`,
    );
    assert.ok(published.every((line) => /-> 127\.0\.0\.1:\d+$/.test(line)), published.join(', '));
    assert.ok(!published.some((line) => line.startsWith('2019/')), 'the admin API is not published');
  });

  it('answers 503 "no staging slot" on the staging listeners from inside the stack network, where the health gate probes them', async () => {
    assert.ok(infra);
    const caddy = infra.containers.caddy;
    await eventually('Caddy answering', 30_000, () => get(infra!.ports.http));
    assert.deepEqual(await getFromNetwork(infra.network, caddy, PROXY_PORTS.stagingHttp), { status: 503, body: 'no staging slot (or not a staging path)\n' });
    assert.deepEqual(await getFromNetwork(infra.network, caddy, PROXY_PORTS.stagingGrpc), { status: 503, body: 'no staging slot\n' });
  });

  it('keeps the admin API on the container loopback only', async () => {
    assert.ok(infra);
    const config = await testEngine.run(['exec', infra.containers.caddy, 'cat', '/etc/caddy/bootstrap.json']);
    assert.equal((JSON.parse(config) as { admin: { listen: string } }).admin.listen, 'localhost:2019');
    // From another container on the stack network: the listener port opens, the admin port does not.
    const connect = (port: number) =>
      testEngine.exec(['run', '--rm', '--network', infra!.network, TEST_IMAGES.base, 'bash', '-c', `exec 3<>/dev/tcp/${infra!.containers.caddy}/${port}`], { timeoutMs: 30_000 });
    assert.equal((await connect(80)).exitCode, 0, 'the probe reaches an open port of Caddy');
    assert.notEqual((await connect(2019)).exitCode, 0, 'port 2019 of Caddy must not accept connections from the network');
  });

  it('removes everything it created on tear-down', async () => {
    assert.ok(infra);
    const handle = infra;
    infra = undefined;
    await handle.tearDown();
    const containers = await testEngine.run(['ps', '-a', '--filter', `label=tk.stack=${stack}`, '--format', '{{.Names}}']);
    const volumes = await testEngine.run(['volume', 'ls', '--filter', `label=tk.stack=${stack}`, '--format', '{{.Name}}']);
    const networks = await testEngine.run(['network', 'ls', '--filter', `label=tk.stack=${stack}`, '--format', '{{.Name}}']);
    assert.deepEqual([containers.trim(), volumes.trim(), networks.trim()], ['', '', '']);
  });
});
