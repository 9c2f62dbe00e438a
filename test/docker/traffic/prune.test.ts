import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { listStackImages, pruneImages } from '../../../providers/docker/prune/index.js';
import type { ReleaseSpec } from '../../../providers/docker/spec.js';
import { ensureAppImage, requireDocker, testEngine as engine, uniqueName } from '../../support/images.js';

function pruneSpec(prefix: string, ref: string, keepReleases: number): ReleaseSpec {
  return {
    stack: prefix,
    prefix,
    network: `${prefix}-net`,
    image: { ref, releaseId: ref.split(':')[1] ?? '', version: '0.0.0-test', commit: 'test' },
    appEnv: {},
    secretEnv: [],
    database: { container: `${prefix}-postgres`, name: 'tk', user: 'tk' },
    snapshots: { dir: '/snapshots', retentionDays: 7, lockWaitTimeoutMs: 10_000 },
    proxy: { container: `${prefix}-caddy`, publicHttpUrl: 'http://127.0.0.1:1', publicGrpcAddress: '127.0.0.1:1' },
    gate: { successes: 1, intervalMs: 100, timeoutMs: 1000 },
    drainTimeoutMs: 1000,
    keepReleases,
    lock: { waitMs: 0 },
  };
}

async function tags(repository: string): Promise<string[]> {
  return (await engine.run(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', repository])).split('\n').filter(Boolean).sort();
}

describe('pruning release images (real Docker)', () => {
  const name = uniqueName('tk-prune');
  const repository = `${name}/trapperkeeper`;
  const otherRepository = `${name}/other`;

  before(async () => {
    await requireDocker();
    const appImage = ensureAppImage();
    // Five releases, oldest first: each its own image id and creation time.
    for (const release of ['r1', 'r2', 'r3', 'r4', 'r5']) {
      await engine.run(['build', '--quiet', '--tag', `${repository}:${release}`, '-'], { input: `FROM ${appImage}\nLABEL tk.test.release=${release}\n` });
    }
    await engine.run(['tag', `${repository}:r2`, `${repository}:r2-alias`]);
    await engine.run(['tag', `${repository}:r3`, `${otherRepository}:keep`]);
    // The parked previous slot runs the oldest release.
    await engine.run(['create', '--name', `${name}-blue-web-ui`, `${repository}:r1`, 'web-ui']);
  });

  after(async () => {
    await engine.exec(['rm', '--force', '--volumes', `${name}-blue-web-ui`]);
    const leftovers = [...(await tags(repository)), ...(await tags(otherRepository))];
    if (leftovers.length > 0) await engine.exec(['image', 'rm', ...leftovers]);
  });

  it('keeps the newest N, the live and the parked slot\'s images, and touches no other repository', async () => {
    const result = await pruneImages(engine, pruneSpec(name, `${repository}:r5`, 2));
    assert.deepEqual(result.failed, []);
    assert.deepEqual(result.removed.sort(), [`${repository}:r2`, `${repository}:r2-alias`, `${repository}:r3`]);
    assert.deepEqual(await tags(repository), [`${repository}:r1`, `${repository}:r4`, `${repository}:r5`]);
    // r3's image is still tagged in another repository: only this stack's tag went.
    assert.deepEqual(await tags(otherRepository), [`${otherRepository}:keep`]);
    assert.deepEqual(
      result.plan.keep.map((k) => [k.image.refs, k.reasons]),
      [
        [[`${repository}:r5`], ['live', 'recent']],
        [[`${repository}:r4`], ['recent']],
        [[`${repository}:r1`], ['previous', 'in-use']],
      ],
    );
    assert.equal((await listStackImages(engine, repository)).length, 3);
  });
});
