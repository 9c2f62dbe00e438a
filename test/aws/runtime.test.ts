import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { awsClients, type AwsClients } from '../../providers/aws/clients.js';
import { awsTargetOf } from '../../providers/aws/plan-target.js';
import { planAwsRelease } from '../../providers/aws/release-plan.js';
import { awsRuntime } from '../../providers/aws/runtime.js';
import { awsConfig } from '../../providers/aws/testing.js';
import { declareLoadBalancer } from './ecs-stack.js';
import { startMoto, useFakeAwsCredentials, type Moto } from './moto.js';

describe('the AWS runtime: the release process reaches the stack with the SDK\'s own settings (moto)', { timeout: 120_000 }, () => {
  let moto: Moto;
  let clients: AwsClients;
  const saved = process.env.AWS_ENDPOINT_URL;

  before(async () => {
    useFakeAwsCredentials();
    moto = await startMoto();
    clients = awsClients({ region: 'eu-west-1', endpoint: moto.url });
  });
  after(async () => {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL;
    else process.env.AWS_ENDPOINT_URL = saved;
    clients?.destroy();
    await moto?.stop();
  });

  it('builds the backend in the plan\'s region, at the endpoint AWS_ENDPOINT_URL names, and reads what serves', async () => {
    const plan = planAwsRelease(awsConfig('prod'), { tag: '0.1.0-0123abcd-20261123T101500Z', version: '0.1.0', commit: '0123abcd' });
    await declareLoadBalancer(moto.url, clients, awsTargetOf(plan));
    process.env.AWS_ENDPOINT_URL = moto.url;
    assert.deepEqual(await awsRuntime.withBackend(plan, (backend) => backend.routing.read()), { live: null, staging: null });
  });
});
