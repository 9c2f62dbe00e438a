import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStackConfig } from '../config.js';
import { CANARY_ENV, pulumiConfig } from '../docker/testing.js';
import { targetRuntime } from '../target-runtimes.js';
import { planGcpInfrastructure } from './infrastructure-spec.js';
import { planGcpRelease } from './release-plan.js';
import { gcpRuntime } from './runtime.js';

const config = parseStackConfig({
  stack: 'prod',
  config: pulumiConfig({ provider: 'gcp', gcp: { project: 'tk-prod-123456', projectNumber: '123456789012', region: 'europe-west1' } }),
  processEnv: CANARY_ENV,
  envFile: { path: '.env.prod', values: {} },
});
assert.ok(config.provider === 'gcp');
const plan = planGcpRelease(config, planGcpInfrastructure(config), { tag: '0.1.0-0123abcd-20261123T101500Z', version: '0.1.0', commit: '0123abcd' });

describe('the GCP target in the release process', () => {
  it('the registry hands a gcp plan to the GCP runtime, which releases it (every port is built: no refusal left)', async () => {
    assert.equal(await targetRuntime(plan), gcpRuntime);
  });

  it('refuses a gcp runtime call with a plan for another target', async () => {
    const dockerish = { ...plan, target: { kind: 'docker' } };
    await assert.rejects((await targetRuntime(plan)).withBackend(dockerish, async () => undefined), /is for the docker target, not gcp/);
  });
});
