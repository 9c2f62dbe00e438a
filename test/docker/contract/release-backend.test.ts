import { describeReleaseBackendContract } from '../../../components/release/backend-contract.js';
import { dockerReleaseBackend } from '../../../providers/docker/release-backend.js';
import { planOfDockerSpec } from '../../../providers/docker/release-plan.js';
import { requireDocker, testEngine, uniqueName } from '../../support/images.js';
import { createReleaseFixture, releaseId } from '../../support/release-fixture.js';

// The Docker backend against a real engine, PostgreSQL and Caddy: the ports the pipeline relies on.
describeReleaseBackendContract('Docker', async () => {
  await requireDocker();
  const fixture = await createReleaseFixture(uniqueName('tkcontract'));
  try {
    const plan = planOfDockerSpec(fixture.specFor(await fixture.releaseImage(releaseId('0.1.0', 1))));
    const otherPlan = planOfDockerSpec(fixture.specFor(await fixture.releaseImage(releaseId('0.1.1', 2))));
    return {
      backend: dockerReleaseBackend(testEngine, plan),
      plan,
      otherPlan,
      secrets: fixture.secrets,
      secondBackend: () => dockerReleaseBackend(testEngine, plan),
      tearDown: () => fixture.tearDown(),
    };
  } catch (error) {
    await fixture.tearDown();
    throw error;
  }
});
