import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeployError } from '../../components/errors.js';
import { parseStackConfig } from '../config.js';
import { CANARY_ENV, pulumiConfig } from '../docker/testing.js';
import { targetRuntime } from '../target-runtimes.js';
import { planGcpInfrastructure } from './infrastructure-spec.js';
import { planGcpRelease } from './release-plan.js';

const config = parseStackConfig({
  stack: 'prod',
  config: pulumiConfig({ provider: 'gcp', gcp: { project: 'tk-prod-123456', projectNumber: '123456789012', region: 'europe-west1' } }),
  processEnv: CANARY_ENV,
  envFile: { path: '.env.prod', values: {} },
});
assert.ok(config.provider === 'gcp');
const plan = planGcpRelease(config, planGcpInfrastructure(config), { tag: '0.1.0-0123abcd-20261123T101500Z', version: '0.1.0', commit: '0123abcd' });

describe('the GCP target in the release process', () => {
  it('the registry hands a gcp plan to the GCP runtime, which refuses to release, naming the one port still missing (images), before touching anything', async () => {
    let ran = false;
    const refused = await targetRuntime(plan)
      .withBackend(plan, async () => {
        ran = true;
      })
      .then(
        () => assert.fail('a GCP release ran'),
        (error: unknown) => error,
      );
    assert.equal(ran, false);
    assert.ok(refused instanceof DeployError);
    assert.match(refused.message, /^Stack prod targets GCP \(project tk-prod-123456, europe-west1\), whose release steps are not complete/);
    assert.match(refused.message, /the deploy lock, Cloud Run slots and traffic, the health gate through tag URLs and the database jobs are, but not images \(release images in Artifact Registry/);
    assert.match(refused.message, /fix: deploy this stack with provider docker for now/);
  });

  it('refuses a gcp runtime call with a plan for another target', async () => {
    const dockerish = { ...plan, target: { kind: 'docker' } };
    await assert.rejects(targetRuntime(plan).withBackend(dockerish, async () => undefined), /is for the docker target, not gcp/);
  });
});
