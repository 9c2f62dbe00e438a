import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateTargetGroupCommand, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { runHealthGate } from '../../components/health-gate/run-health-gate.js';
import { awsClients, type AwsClients } from '../../providers/aws/clients.js';
import { targetGroupHealthCheck } from '../../providers/aws/gate/target-health.js';
import { startMoto, useFakeAwsCredentials, type Moto } from './moto.js';

const GATE = { successes: 2, intervalMs: 100, timeoutMs: 1_500, subject: 'the green slot', fix: 'aws ecs describe-services --cluster tk-test --services tk-test-green-web-ui' };

describe('the health gate on the load balancer\'s target health (moto)', { timeout: 120_000 }, () => {
  let moto: Moto;
  let clients: AwsClients;
  let arn: string;

  before(async () => {
    useFakeAwsCredentials();
    moto = await startMoto();
    clients = awsClients({ region: 'eu-west-1', endpoint: moto.url });
  });
  after(async () => {
    clients?.destroy();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    const ec2 = new EC2Client({ region: 'eu-west-1', endpoint: moto.url });
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
    ec2.destroy();
    arn = (await clients.elbv2.send(new CreateTargetGroupCommand({ Name: 'tk-test-green-web', Protocol: 'HTTP', Port: 8080, VpcId: vpc, TargetType: 'ip' }))).TargetGroups![0]!.TargetGroupArn!;
  });

  it('never passes a slot whose tasks never registered: the release fails with the last answer, traffic untouched', async () => {
    await assert.rejects(runHealthGate([targetGroupHealthCheck(clients.elbv2, 'tk-test-green-web', 2)], GATE), (error: Error) =>
      /the green slot/.test(error.message) && /no target registered yet \(2 expected\)/.test(error.message) && /aws ecs describe-services/.test(error.message),
    );
  });

  it('passes once the slot\'s tasks are registered and healthy, after consecutive successes', async () => {
    setTimeout(() => void clients.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: '10.0.1.5', Port: 8080 }, { Id: '10.0.2.7', Port: 8080 }] })), 300);
    const report = await runHealthGate([targetGroupHealthCheck(clients.elbv2, 'tk-test-green-web', 2)], GATE);
    assert.ok(report.state.rounds >= 3, `failing rounds first, then two successes: ${report.state.rounds} rounds`);
    assert.equal(report.state.consecutive, 2);
  });

  it('keeps failing while fewer tasks than desired are healthy', async () => {
    await clients.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: '10.0.1.5', Port: 8080 }] }));
    await assert.rejects(runHealthGate([targetGroupHealthCheck(clients.elbv2, 'tk-test-green-web', 2)], GATE), /1 of 2 targets healthy/);
  });

  it('names a target group that does not exist', async () => {
    await assert.rejects(runHealthGate([targetGroupHealthCheck(clients.elbv2, 'tk-test-blue-web', 1)], GATE), /TargetGroupNotFound|no such target group/);
  });
});
