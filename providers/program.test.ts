import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import program from '../index.js';
import { DeployError } from '../components/errors.js';
import { ConfigError } from './config.js';
import { CANARY_ENV, CLEAN_GIT, MOCK_RELEASE_SUMMARY, installPulumiMocks, promiseOf, pulumiConfig, recorded, repositoryStackConfig, resetRecorded } from './docker/testing.js';

const devStackConfig = () => repositoryStackConfig('dev');

/** Lets any registration the program started reach the mock engine. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function thrown(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  assert.fail('the program declared its resources');
}

describe('the Pulumi program (index.ts) under mocks', () => {
  let dir: string;
  before(async () => {
    await installPulumiMocks('dev');
    // A project folder of its own: no developer's .env.dev can change the outcome.
    dir = mkdtempSync(join(tmpdir(), 'tk-program-'));
    mkdirSync(join(dir, 'app'));
    writeFileSync(join(dir, 'app', 'package.json'), '{"name":"trapperkeeper","version":"0.1.0"}\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    resetRecorded();
  });

  it('declares nothing for a bad config, and throws one ConfigError listing every problem', async () => {
    pulumi.runtime.setAllConfig(
      pulumiConfig({ provider: 'docker', docker: { ports: { http: 99999, grpc: 'fifty' }, host: 'ftp://x' }, release: { keepReleases: 0 } }),
      [],
    );
    const error = await thrown(() => program({ dir, processEnv: {}, git: CLEAN_GIT }));
    await settle();
    assert.equal(recorded.length, 0, `declared: ${recorded.map((r) => r.name).join(', ')}`);
    assert.ok(error instanceof pulumi.RunError, 'Pulumi prints the problems without a stack trace');
    const cause = (error as Error & { cause?: unknown }).cause;
    assert.ok(cause instanceof ConfigError);
    assert.deepEqual(cause.problems.map((p) => p.path).sort(), [
      'docker.host',
      'docker.ports.grpc',
      'docker.ports.http',
      'hmacSecret',
      'postgresPassword',
      'release.keepReleases',
    ]);
    assert.equal(error.message, cause.message);
  });

  it('declares nothing when the image sources have uncommitted changes', async () => {
    pulumi.runtime.setAllConfig(pulumiConfig({ provider: 'docker' }), []);
    const error = await thrown(() => program({ dir, processEnv: CANARY_ENV, git: { ...CLEAN_GIT, dirtyFiles: ['app/src/main.ts'] } }));
    await settle();
    assert.equal(recorded.length, 0);
    const cause = (error as Error & { cause?: unknown }).cause;
    assert.ok(cause instanceof DeployError && /uncommitted changes in app\/src\/main\.ts/.test(cause.message));
  });

  it('deploys the dev stack file and exports the URLs, the live and previous versions, the latest snapshot and the image', async () => {
    pulumi.runtime.setAllConfig(devStackConfig(), []);
    const outputs = await program({ dir, processEnv: CANARY_ENV, git: CLEAN_GIT });
    assert.deepEqual(
      {
        publicHttpUrl: await promiseOf(outputs.publicHttpUrl),
        publicGrpcAddress: await promiseOf(outputs.publicGrpcAddress),
        liveSlot: await promiseOf(outputs.liveSlot),
        liveVersion: await promiseOf(outputs.liveVersion),
        previousVersion: await promiseOf(outputs.previousVersion),
        latestSnapshot: await promiseOf(outputs.latestSnapshot),
        image: await promiseOf(outputs.image),
      },
      {
        publicHttpUrl: 'http://127.0.0.1:8080',
        publicGrpcAddress: '127.0.0.1:50051',
        liveSlot: MOCK_RELEASE_SUMMARY.liveSlot,
        liveVersion: MOCK_RELEASE_SUMMARY.liveRelease,
        previousVersion: MOCK_RELEASE_SUMMARY.previousRelease,
        latestSnapshot: MOCK_RELEASE_SUMMARY.latestSnapshot,
        image: 'tk-dev/trapperkeeper:0.1.0-0123abcd-20261123T101500Z-bf4c6b54b',
      },
    );
    assert.equal(outputs.releasePlan.appEnv.TK_LOG_LEVEL, 'debug');
    await settle();
    assert.equal(recorded.filter((r) => r.type === 'command:local:Command').length, 2);
  });
});
