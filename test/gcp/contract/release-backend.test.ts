import { describeReleaseBackendContract } from '../../../components/release/backend-contract.js';
import { createGcpReleaseFixture } from '../support/gcp-release-fixture.js';

// The GCP backend through the real Google clients against the Cloud Run emulator (revisions and
// jobs on the local Docker engine), the Artifact Registry emulator, fake-gcs-server and
// PostgreSQL on 127.0.0.1.
describeReleaseBackendContract(
  'GCP (Cloud Run and Artifact Registry emulators, fake-gcs-server)',
  async () => {
    const fixture = await createGcpReleaseFixture();
    return {
      backend: fixture.backend(),
      plan: fixture.plan(),
      otherPlan: fixture.plan('debug'),
      secrets: fixture.secrets,
      secondBackend: () => fixture.backend(),
      tearDown: () => fixture.tearDown(),
    };
  },
);
