import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import program from '../../index.js';
import { ConfigError } from '../config.js';
import { MOCK_RELEASE_SUMMARY, installAwsMocks, promiseOf, recorded, settle } from './mocks.js';
import { AWS_CANARY_ENV, MINIMAL_AWS_SECTION, awsPulumiConfig } from './testing.js';

const GIT = { commit: '0123abcd'.padEnd(40, 'e'), committedAt: new Date('2026-11-23T10:15:00Z'), dirtyFiles: [] };

describe('the Pulumi program (index.ts) with provider aws, under mocks', () => {
  let dir: string;
  before(async () => {
    await installAwsMocks('staging');
    dir = mkdtempSync(join(tmpdir(), 'tk-aws-program-'));
    mkdirSync(join(dir, 'app'));
    writeFileSync(join(dir, 'app', 'package.json'), '{"name":"trapperkeeper","version":"0.1.0"}\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    recorded.length = 0;
  });

  it('declares the AWS target and exports the public endpoints, the load balancer to point the domain at, and the release', async () => {
    pulumi.runtime.setAllConfig(awsPulumiConfig({ provider: 'aws', aws: MINIMAL_AWS_SECTION }), []);
    const outputs = (await program({ dir, processEnv: AWS_CANARY_ENV, git: GIT })) as Awaited<ReturnType<typeof program>> & { loadBalancerDnsName: pulumi.Output<string> };
    assert.deepEqual(
      {
        publicHttpUrl: await promiseOf(outputs.publicHttpUrl),
        publicGrpcAddress: await promiseOf(outputs.publicGrpcAddress),
        loadBalancerDnsName: await promiseOf(outputs.loadBalancerDnsName),
        liveVersion: await promiseOf(outputs.liveVersion),
        image: await promiseOf(outputs.image),
      },
      {
        publicHttpUrl: 'https://tk.example.com',
        publicGrpcAddress: 'tk.example.com:50051',
        loadBalancerDnsName: 'tk-staging-123456789.eu-west-1.elb.amazonaws.com',
        liveVersion: MOCK_RELEASE_SUMMARY.liveRelease,
        image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/tk-staging/trapperkeeper:0.1.0-0123abcd-20261123T101500Z',
      },
    );
    assert.equal(outputs.releasePlan.target.kind, 'aws');
    await settle();
    assert.equal(recorded.filter((r) => r.type === 'aws:ecs/service:Service').length, 4);
  });

  it('declares nothing for an aws section with problems, and lists them all', async () => {
    pulumi.runtime.setAllConfig(awsPulumiConfig({ provider: 'aws', aws: { region: 'eu-west-1', vpc: { id: 'vpc-0123456789abcdef0' } } }), []);
    let error: unknown;
    try {
      await program({ dir, processEnv: AWS_CANARY_ENV, git: GIT });
    } catch (thrown) {
      error = thrown;
    }
    await settle();
    assert.equal(recorded.length, 0);
    const cause = (error as { cause?: unknown }).cause;
    assert.ok(cause instanceof ConfigError);
    assert.deepEqual(cause.problems.map((p) => p.path).sort(), ['aws.certificateArn', 'aws.domain', 'aws.vpc.privateSubnetIds', 'aws.vpc.publicSubnetIds']);
  });
});
