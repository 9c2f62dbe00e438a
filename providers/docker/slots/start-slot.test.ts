import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeployError } from '../../../components/errors.js';
import type { ReleaseSpec } from '../spec.js';
import { planOfDockerSpec } from '../release-plan.js';
import { collectSecrets, planStartSlot } from './start-slot.js';

const spec: ReleaseSpec = {
  stack: 'dev',
  prefix: 'tk-dev',
  network: 'tk-dev-net',
  image: { ref: 'trapperkeeper:1.4.0-3f2a9c1d-20261123T101500Z', releaseId: '1.4.0-3f2a9c1d-20261123T101500Z', version: '1.4.0', commit: '3f2a9c1d' },
  appEnv: { TK_LOG_LEVEL: 'info' },
  secretEnv: ['TK_DATABASE_URL', 'TK_HMAC_SECRET'],
  database: { container: 'tk-dev-postgres', name: 'tk', user: 'tk' },
  snapshots: { dir: '/snapshots', retentionDays: 7, lockWaitTimeoutMs: 10_000 },
  proxy: {
    container: 'tk-dev-caddy',
    publicHttpUrl: 'http://127.0.0.1:8080',
    publicGrpcAddress: '127.0.0.1:50051',
  },
  gate: { successes: 3, intervalMs: 1000, timeoutMs: 60_000 },
  drainTimeoutMs: 15_000,
  keepReleases: 5,
  lock: { waitMs: 0 },
};
const imageId = 'sha256:aaaa';

describe('planStartSlot', () => {
  it('runs both services from the release image on the stack network, labelled, without published ports', () => {
    const plan = planStartSlot(spec, 'green', imageId);
    assert.deepEqual(plan.remove, ['tk-dev-green-sensor-api', 'tk-dev-green-web-ui']);
    assert.deepEqual(plan.run[0], {
      service: 'sensor-api',
      name: 'tk-dev-green-sensor-api',
      args: [
        'run', '--detach',
        '--name', 'tk-dev-green-sensor-api',
        '--network', 'tk-dev-net',
        '--restart', 'unless-stopped',
        '--stop-timeout', '20',
        '--label', 'tk.stack=dev',
        '--label', 'tk.slot=green',
        '--label', 'tk.release=1.4.0-3f2a9c1d-20261123T101500Z',
        '--label', 'tk.version=1.4.0',
        '--label', 'tk.commit=3f2a9c1d',
        '--label', 'tk.image-id=sha256:aaaa',
        '--label', `tk.plan=${JSON.stringify(planOfDockerSpec(spec))}`,
        '--label', 'tk.service=sensor-api',
        '-e', 'TK_LOG_LEVEL=info',
        '-e', 'TK_SHUTDOWN_TIMEOUT_MS=15000',
        '-e', 'TK_WEB_UI_SHUTDOWN_DELAY_MS=0',
        '-e', 'TK_WEB_UI_TRUST_PROXY=true',
        '-e', 'TK_DATABASE_URL',
        '-e', 'TK_HMAC_SECRET',
        '-e', 'TK_RELEASE_ID=1.4.0-3f2a9c1d-20261123T101500Z',
        'trapperkeeper:1.4.0-3f2a9c1d-20261123T101500Z',
        'sensor-api',
      ],
    });
    assert.equal(plan.run[1]?.name, 'tk-dev-green-web-ui');
    assert.equal(plan.run[1]?.args.at(-1), 'web-ui');
    for (const { args } of plan.run) {
      assert.ok(!args.some((arg) => arg === '-p' || arg.startsWith('--publish')), 'no published port');
    }
  });

  it('keeps a drain timeout the stack sets explicitly', () => {
    const plan = planStartSlot({ ...spec, appEnv: { TK_SHUTDOWN_TIMEOUT_MS: '5000' } }, 'blue', imageId);
    assert.deepEqual(plan.run[0]?.args.filter((arg) => arg.startsWith('TK_SHUTDOWN')), ['TK_SHUTDOWN_TIMEOUT_MS=5000']);
  });
});

describe('collectSecrets', () => {
  it('returns the values of the named secrets, which never appear on argv', () => {
    const secrets = collectSecrets(spec.secretEnv, { TK_DATABASE_URL: 'postgres://u:pw@db/tk', TK_HMAC_SECRET: 'id:secret', OTHER: 'x' });
    assert.deepEqual(secrets, { TK_DATABASE_URL: 'postgres://u:pw@db/tk', TK_HMAC_SECRET: 'id:secret' });
    const argv = planStartSlot(spec, 'blue', imageId).run.flatMap((r) => r.args).join(' ');
    assert.ok(!argv.includes('pw@db') && !argv.includes('id:secret'));
  });

  it('refuses to start a slot when a secret is missing, naming it', () => {
    assert.throws(() => collectSecrets(spec.secretEnv, { TK_DATABASE_URL: 'x' }), (error: unknown) => {
      assert.ok(error instanceof DeployError);
      assert.match(error.message, /TK_HMAC_SECRET/);
      assert.doesNotMatch(error.message, /TK_DATABASE_URL/);
      return true;
    });
  });
});
