import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseReleasePlan } from '../../components/release/plan.js';
import { awsRuntime } from './runtime.js';
import { awsTargetOf, planAwsRelease } from './release-plan.js';
import { awsConfig, capturedEvents } from './testing.js';

const TAG = { tag: '0.1.0-0123abcd-20261123T101500Z', version: '0.1.0', commit: '0123abcd' };

describe('the release plan of an AWS stack', () => {
  it('names every resource the release steps look up, and reads back through the plan schema', () => {
    const plan = planAwsRelease(awsConfig('prod'), TAG);
    const reread = parseReleasePlan(JSON.stringify(plan), { source: 'TK_RELEASE_PLAN', fix: 'pulumi up' });
    assert.deepEqual(reread, plan);
    assert.deepEqual(awsTargetOf(reread), {
      kind: 'aws',
      region: 'eu-west-1',
      loadBalancer: 'tk-prod',
      listeners: { web: 443, grpc: 50051, stagingWeb: 8443, stagingGrpc: 50052 },
      targetGroups: { blue: { 'sensor-api': 'tk-prod-blue-grpc', 'web-ui': 'tk-prod-blue-web' }, green: { 'sensor-api': 'tk-prod-green-grpc', 'web-ui': 'tk-prod-green-web' } },
      cluster: 'tk-prod',
      services: { blue: { 'sensor-api': 'tk-prod-blue-sensor-api', 'web-ui': 'tk-prod-blue-web-ui' }, green: { 'sensor-api': 'tk-prod-green-sensor-api', 'web-ui': 'tk-prod-green-web-ui' } },
      lockTable: 'tk-prod-deploy-lock',
      snapshotBucket: 'tk-prod-snapshots-eu-west-1',
      database: 'tk-prod-postgres',
      desiredCount: { 'sensor-api': 2, 'web-ui': 2 },
      snapshotImage: 'public.ecr.aws/docker/library/postgres:16',
    });
    assert.deepEqual(plan.endpoints, { publicHttpUrl: 'https://tk.example.com', publicGrpcAddress: 'tk.example.com:50051' });
    assert.equal(plan.image.ref, 'tk-prod/trapperkeeper:0.1.0-0123abcd-20261123T101500Z');
    assert.deepEqual(plan.secretEnv, [], 'the tasks read their secrets from Secrets Manager; the release process forwards none');
  });

  it('a config-only change is another release of the same image', () => {
    const first = planAwsRelease(awsConfig('prod'), TAG);
    const again = planAwsRelease(awsConfig('prod'), TAG);
    const relogged = planAwsRelease(awsConfig('prod', {}, { app: { logLevel: 'debug' } }), TAG);
    assert.equal(first.image.releaseId, again.image.releaseId);
    assert.match(first.image.releaseId, /^0\.1\.0-0123abcd-20261123T101500Z\+cfg\.[0-9a-f]{8}$/);
    assert.notEqual(relogged.image.releaseId, first.image.releaseId);
    assert.equal(relogged.image.ref, first.image.ref);
  });

  it('refuses a plan of another target', () => {
    const plan = planAwsRelease(awsConfig('prod'), TAG);
    assert.throws(() => awsTargetOf({ ...plan, target: { kind: 'docker' } }), /is for the docker target, not aws/);
  });
});

describe('the AWS runtime', () => {
  it('builds a backend with every port of the release pipeline', async () => {
    const plan = planAwsRelease(awsConfig('prod'), TAG);
    const ports = await awsRuntime.withBackend(plan, async (backend) => Object.keys(backend).sort());
    assert.deepEqual(ports, ['database', 'gate', 'images', 'lock', 'routing', 'slots']);
  });

  it('leaves destroying to pulumi destroy and says where the final snapshot is', async () => {
    const plan = planAwsRelease(awsConfig('prod'), TAG);
    const log = capturedEvents();
    await awsRuntime.destroy(plan, log.events);
    assert.match(String(log.lines[0]?.msg), /removed by pulumi destroy itself; RDS keeps the final snapshot tk-prod-postgres-final/);
  });
});
