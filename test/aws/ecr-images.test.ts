import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CreateRepositoryCommand, DescribeImagesCommand, PutImageCommand } from '@aws-sdk/client-ecr';
import { exampleReleasePlan } from '../../components/release/memory-backend.js';
import { awsClients, type AwsClients } from '../../providers/aws/clients.js';
import { ecrImages } from '../../providers/aws/images/ecr-images.js';
import { REGION, testTarget } from './ecs-stack.js';
import { startMoto, useFakeAwsCredentials, type Moto } from './moto.js';

const REPOSITORY = 'tk-test/trapperkeeper';
const TAGS = ['1.0.0-a', '1.1.0-b', '1.2.0-c', '1.3.0-d', '1.4.0-e'];
const plan = (tag: string) => exampleReleasePlan(`${tag}+cfg.00000001`, { target: { ...testTarget() }, keepReleases: 2 });

/** A pushed image as ECR stores it: a manifest naming a config blob by digest. */
function manifest(tag: string): string {
  const digest = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 2, digest: digest(`config ${tag}`) },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 2, digest: digest(`layer ${tag}`) }],
  });
}

describe('images on ECR: a release image is a tag of the stack\'s repository; pruning keeps the newest and every one a slot runs (moto)', { timeout: 120_000 }, () => {
  let moto: Moto;
  let clients: AwsClients;

  before(async () => {
    useFakeAwsCredentials();
    moto = await startMoto();
    clients = awsClients({ region: REGION, endpoint: moto.url });
  });
  after(async () => {
    clients?.destroy();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    await clients.ecr.send(new CreateRepositoryCommand({ repositoryName: REPOSITORY, imageTagMutability: 'IMMUTABLE' }));
    for (const tag of TAGS) {
      await clients.ecr.send(new PutImageCommand({ repositoryName: REPOSITORY, imageTag: tag, imageManifest: manifest(tag) }));
      await new Promise((resolve) => setTimeout(resolve, 1100));
    }
  });

  const tagsLeft = async () => ((await clients.ecr.send(new DescribeImagesCommand({ repositoryName: REPOSITORY }))).imageDetails ?? []).flatMap((i) => i.imageTags ?? []).sort();

  it('an image pushed for a release exists and was pushed when ECR says; an unknown tag does not exist', async () => {
    const images = ecrImages(clients.ecr, { inUse: async () => [] });
    assert.equal(await images.exists(plan('1.2.0-c')), true);
    assert.equal(await images.exists(plan('9.9.9-z')), false);
    const pushed = await images.builtAt(plan('1.2.0-c'));
    assert.ok(pushed.getTime() <= Date.now() && pushed.getTime() > Date.now() - 120_000);
    await assert.rejects(images.builtAt(plan('9.9.9-z')), /not in ECR any more/);
  });

  it('prune keeps the newest keepReleases, the release being made and whatever a slot still runs, and deletes the rest', async () => {
    // Blue is parked on the oldest release (a rollback target); the release being made is 1.3.0.
    const images = ecrImages(clients.ecr, { inUse: async () => [`${REPOSITORY}:1.0.0-a`] });
    const { removed } = await images.prune(plan('1.3.0-d'));
    assert.deepEqual(removed.sort(), [`${REPOSITORY}:1.1.0-b`, `${REPOSITORY}:1.2.0-c`]);
    assert.deepEqual(await tagsLeft(), ['1.0.0-a', '1.3.0-d', '1.4.0-e']);
    assert.deepEqual((await images.prune(plan('1.3.0-d'))).removed, [], 'nothing more to remove');
  });
});
