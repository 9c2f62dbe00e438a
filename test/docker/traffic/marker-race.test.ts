import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { PROXY_PORTS, renderCaddyConfig, ROUTING_DIR, type CaddyConfig } from '../../../providers/docker/proxy/index.js';
import { APP_PORTS } from '../../../providers/docker/spec.js';
import { requireDocker, TEST_IMAGES, testEngine as engine, uniqueName } from '../../support/images.js';

/**
 * The switch is one rename of the live marker, but Caddy looks for each slot's marker in turn:
 * a request whose look for the first slot's marker came just before the rename, and whose look
 * for the other slot's came just after it, found neither and got 503 "no live release" (seen
 * twice in a bench run under load). Here a real Caddy serves the generated config while its
 * marker is renamed back and forth, 25 times a second, and a stream of requests asks it: no
 * request may find no live release.
 */
describe('routing markers renamed under traffic (real Caddy)', () => {
  const prefix = uniqueName('tkrace');
  const network = `${prefix}-net`;
  const container = `${prefix}-caddy`;
  let publicUrl = '';

  /** The generated config, with an extra listener on the web UI's port standing in for both slots' web UI. */
  function configWithStandIn(): CaddyConfig {
    const config = renderCaddyConfig({ prefix });
    config.apps.http.servers['stand-in'] = {
      listen: [`:${APP_PORTS.webUi}`],
      automatic_https: { disable: true },
      routes: [{ handle: [{ handler: 'static_response', status_code: 200, body: 'slot' }], terminal: true }],
    };
    return config;
  }

  const docker = async (args: string[]) => {
    const result = await engine.exec(args);
    if (result.exitCode !== 0) throw new Error(`docker ${args.slice(0, 2).join(' ')} failed: ${result.stderr.trim()}`);
    return result.stdout.trim();
  };

  before(async () => {
    await requireDocker();
    await docker(['network', 'create', network]);
    await docker([
      'run', '-d', '--name', container, '--network', network,
      // Both slots' web UI names lead back to this container's stand-in listener.
      '--network-alias', `${prefix}-blue-web-ui`, '--network-alias', `${prefix}-green-web-ui`,
      '-p', `127.0.0.1::${PROXY_PORTS.publicHttp}`,
      '-e', `TK_CONFIG=${JSON.stringify(configWithStandIn())}`,
      TEST_IMAGES.caddy,
      'sh', '-c', `mkdir -p ${ROUTING_DIR} && cd ${ROUTING_DIR} && printf r1 > release-blue && printf r2 > release-green && : > live-blue && printf '%s' "$TK_CONFIG" > /tmp/caddy.json && exec caddy run --config /tmp/caddy.json`,
    ]);
    const port = (await docker(['port', container, String(PROXY_PORTS.publicHttp)])).split('\n')[0]!.split(':').pop();
    publicUrl = `http://127.0.0.1:${port}`;
    for (let attempt = 0; ; attempt += 1) {
      const answer = await get(new Agent(), '/').catch(() => null);
      if (answer?.status === 200) break;
      if (attempt > 100) throw new Error(`Caddy did not serve ${publicUrl}: ${JSON.stringify(answer)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  after(async () => {
    await engine.exec(['rm', '-f', container]);
    await engine.exec(['network', 'rm', network]);
  });

  function get(agent: Agent, path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`${publicUrl}${path}`, { agent, signal: AbortSignal.timeout(5000) }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        response.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('every request reaches a slot while the live marker moves blue -> green -> blue, 25 times a second', async () => {
    const seconds = 6;
    const flips = docker([
      'exec', container, 'sh', '-c',
      `cd ${ROUTING_DIR}; end=$(( $(date +%s) + ${seconds} )); n=0; while [ $(date +%s) -lt $end ]; do mv live-blue live-green; sleep 0.02; mv live-green live-blue; sleep 0.02; n=$((n+2)); done; echo $n`,
    ]);
    const agent = new Agent({ keepAlive: true, maxSockets: 48 });
    const answers = new Map<string, number>();
    let flipsDone = false;
    void flips.finally(() => (flipsDone = true));
    await Promise.all(
      Array.from({ length: 48 }, async () => {
        while (!flipsDone) {
          const { status, body } = await get(agent, '/');
          const key = `${status} ${body.trim()}`;
          answers.set(key, (answers.get(key) ?? 0) + 1);
        }
      }),
    );
    agent.destroy();
    const moves = Number(await flips);
    const total = [...answers.values()].reduce((sum, n) => sum + n, 0);
    // Enough of both for the race to show: before the fix, about 1 request in 270 met a move at
    // 40 moves a second (41 of 11,157 on an idle machine); a busy CI machine manages fewer of each.
    assert.ok(moves >= seconds * 10, `the marker moved only ${moves} times`);
    assert.ok(total >= 2000, `only ${total} requests were answered, too few to meet a move`);
    assert.deepEqual(Object.fromEntries(answers), { '200 slot': total }, `${total} requests during ${moves} moves`);
  });
});
