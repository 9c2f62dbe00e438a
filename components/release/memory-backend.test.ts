import { describeReleaseBackendContract } from './backend-contract.js';
import { exampleReleasePlan, MemoryBackend } from './memory-backend.js';

// The in-memory target must keep the promises real targets keep, or the pipeline tests that run
// on it would prove nothing.
describeReleaseBackendContract('in memory', async () => {
  const plan = exampleReleasePlan('1.0.0-aaaaaaa-20261201T100000Z-b00000001');
  const otherPlan = { ...plan, image: { ...plan.image, releaseId: `${plan.image.releaseId}+cfg.00000002` } };
  const backend = new MemoryBackend({ pending: ['001_initial'], images: [plan.image.ref] });
  return { backend, plan, otherPlan, secrets: { TK_DATABASE_URL: 'postgres://memory' }, secondBackend: () => backend, tearDown: async () => undefined };
});
