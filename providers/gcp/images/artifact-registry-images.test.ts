import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ReleasePlan } from '../../../components/release/plan.js';
import { exampleReleasePlan } from '../../../components/release/memory-backend.js';
import { startArtifactRegistryEmulator, type ArtifactRegistryEmulator } from '../emulator/artifact-registry.js';
import { artifactImageOf, artifactRegistryImages } from './artifact-registry-images.js';
import { artifactRegistryClient } from './client.js';

const BASE = 'europe-west1-docker.pkg.dev/tk-prod-123456/trapperkeeper/trapperkeeper';
const planOf = (tag: string, keepReleases = 2): ReleasePlan => {
  const plan = exampleReleasePlan(tag);
  return { ...plan, keepReleases, image: { ...plan.image, ref: `${BASE}:${tag}` } };
};

describe('Artifact Registry names of a release image', () => {
  it('splits <region>-docker.pkg.dev/<project>/<repository>/<image>:<tag> into the API resource names', () => {
    assert.deepEqual(artifactImageOf(`${BASE}:1.0.0-aaaaaaa-20261201T100000Z`), {
      repository: 'projects/tk-prod-123456/locations/europe-west1/repositories/trapperkeeper',
      image: 'trapperkeeper',
      tag: '1.0.0-aaaaaaa-20261201T100000Z',
      base: BASE,
    });
  });
  it('refuses a ref outside Artifact Registry or without a tag, saying what it expects', () => {
    assert.throws(() => artifactImageOf('trapperkeeper:1.0.0'), /is not a tagged Artifact Registry image \(<region>-docker.pkg.dev/);
    assert.throws(() => artifactImageOf(BASE), /is not a tagged Artifact Registry image/);
  });
});

describe('the images port on Artifact Registry (real ArtifactRegistryClient against the local server)', () => {
  let registry: ArtifactRegistryEmulator;
  let client: ReturnType<typeof artifactRegistryClient>;
  before(async () => {
    registry = await startArtifactRegistryEmulator();
    client = artifactRegistryClient({ host: registry.host, port: registry.port });
  });
  after(async () => {
    await client?.close();
    await registry?.stop();
  });

  it('exists and builtAt read the tag and its image upload time; an unknown tag does not exist', async () => {
    const uploaded = new Date('2026-11-30T08:00:00.250Z');
    registry.push(`${BASE}:r0`, { uploadTime: uploaded });
    const images = artifactRegistryImages(client, { inUse: async () => [] });
    assert.equal(await images.exists(planOf('r0')), true);
    assert.equal(await images.exists(planOf('missing')), false);
    assert.equal((await images.builtAt(planOf('r0'))).toISOString(), uploaded.toISOString());
    await assert.rejects(images.builtAt(planOf('missing')), /The image .*:missing is not in Artifact Registry any more/);
  });

  it('prune keeps the newest keepReleases, the one being released and every one a slot runs, across pages, and deletes the rest', async () => {
    const base = Date.parse('2026-12-01T00:00:00Z');
    for (let i = 1; i <= 6; i++) registry.push(`${BASE}:r${i}`, { uploadTime: new Date(base + i * 60_000) });
    // Another image in the same repository is not ours to prune.
    registry.push('europe-west1-docker.pkg.dev/tk-prod-123456/trapperkeeper/other:x', { uploadTime: new Date(base) });
    const images = artifactRegistryImages(client, { inUse: async () => [`${BASE}:r1`, `${BASE}:r6`] });
    // Releasing r2 (an old one, e.g. a rollback), r1 runs in a slot; newest two are r6 and r5.
    const { removed } = await images.prune(planOf('r2', 2));
    assert.deepEqual(removed.sort(), [`${BASE}:r0`, `${BASE}:r3`, `${BASE}:r4`]);
    const left = registry.images().flatMap((image) => image.tags).sort();
    assert.deepEqual(left, ['r1', 'r2', 'r5', 'r6', 'x']);
    assert.equal(await images.exists(planOf('r3')), false);
    assert.ok(registry.calls.filter((call) => call === 'ListDockerImages').length > 1, 'the client paged through the list');
    assert.deepEqual(await images.prune(planOf('r2', 2)), { removed: [] }, 'nothing more to remove');
  });
});
