import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsConfig } from '../testing.js';
import { planAwsRelease } from '../release-plan.js';
import { awsTargetOf } from '../plan-target.js';
import { albGate, stagingProbes } from './release-gate.js';

const TAG = { tag: '0.1.0-0123abcd-20261123T101500Z', version: '0.1.0', commit: '0123abcd' };

describe('the AWS gate: target health of the idle slot plus probes through the listeners, by the stack\'s domain', () => {
  const plan = planAwsRelease(awsConfig('prod'), TAG);
  const target = awsTargetOf(plan);

  it('probes the staged slot through the test listeners, where the public ones keep serving users', () => {
    assert.deepEqual(stagingProbes(plan, target), [
      { kind: 'http', name: 'staging web-ui /readyz', address: 'https://tk.example.com:8443/readyz' },
      { kind: 'grpc', name: 'staging sensor-api gRPC health', address: 'tk.example.com:50052' },
    ]);
  });

  it('checks both target groups of the slot at its desired count, then the probes; the public set reaches the public listeners', async () => {
    // No call is made until a check runs; the client points nowhere reachable on purpose.
    const elbv2 = new ElasticLoadBalancingV2Client({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const gate = albGate(elbv2, target);
    const staging = await gate.staging(plan, 'green');
    const publicSet = await gate.public(plan);
    try {
      assert.deepEqual(
        staging.checks.map((c) => c.name),
        [
          'load balancer health of tk-prod-green-grpc',
          'load balancer health of tk-prod-green-web',
          'staging web-ui /readyz (https://tk.example.com:8443/readyz, TLS for tk.example.com)',
          staging.checks[3]!.name,
        ],
      );
      assert.match(staging.checks[3]!.name, /staging sensor-api gRPC health.*tk\.example\.com:50052/);
      assert.match(publicSet.checks.map((c) => c.name).join(' | '), /https:\/\/tk\.example\.com\/readyz.*tk\.example\.com:50051/);
    } finally {
      await staging.close();
      await publicSet.close();
      elbv2.destroy();
    }
    assert.match(gate.diagnose('blue'), /describe-target-health .*tk-prod-blue-grpc.*describe-services .*tk-prod-blue-sensor-api/);
    assert.match(gate.diagnose('router'), /describe-listeners .*--names tk-prod/);
  });
});
