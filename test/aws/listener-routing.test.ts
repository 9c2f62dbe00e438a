import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  DescribeListenersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  ModifyListenerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { exampleReleasePlan } from '../../components/release/memory-backend.js';
import type { ReleasePlan } from '../../components/release/plan.js';
import { awsClients, type AwsClients } from '../../providers/aws/clients.js';
import { awsNames } from '../../providers/aws/names.js';
import { planAwsTarget, type AwsTargetPlan } from '../../providers/aws/release-plan.js';
import { NOTHING_LIVE, RELEASE_TAG, elbRouting, forwardTo } from '../../providers/aws/routing/listener-routing.js';
import { declareLoadBalancer } from './ecs-stack.js';
import { startMoto, useFakeAwsCredentials, type Moto } from './moto.js';

const REGION = 'eu-west-1';
const LISTENERS = { web: 443, grpc: 50051, stagingWeb: 8443, stagingGrpc: 50052 };
const TARGET: AwsTargetPlan = planAwsTarget(awsNames('test', REGION), REGION, LISTENERS, { 'sensor-api': 2, 'web-ui': 2 }, 'public.ecr.aws/docker/library/postgres:15');

function plan(releaseId: string): ReleasePlan {
  return exampleReleasePlan(releaseId, { target: { ...TARGET } });
}
const V1 = plan('1.0.0-aaaaaaa-20261201T100000Z-b00000001+cfg.00000001');
const V2 = plan('1.1.0-bbbbbbb-20261202T100000Z-b00000001+cfg.00000002');

describe('routing on an ALB: weighted forwarding between the blue and green target groups (moto)', { timeout: 120_000 }, () => {
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
    await declareLoadBalancer(moto.url, clients, TARGET);
  });

  /** The default action of the listener on `port`, as AWS reports it. */
  async function actionOn(port: number) {
    const balancers = await clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: (await arnOfBalancer()) }));
    return balancers.Listeners!.find((l) => l.Port === port)!.DefaultActions;
  }
  async function arnOfBalancer(): Promise<string> {
    const { DescribeLoadBalancersCommand } = await import('@aws-sdk/client-elastic-load-balancing-v2');
    return (await clients.elbv2.send(new DescribeLoadBalancersCommand({ Names: [TARGET.loadBalancer] }))).LoadBalancers![0]!.LoadBalancerArn!;
  }
  async function arnsOf(service: 'web-ui' | 'sensor-api') {
    const names = [TARGET.targetGroups.blue[service], TARGET.targetGroups.green[service]];
    const groups = (await clients.elbv2.send(new DescribeTargetGroupsCommand({ Names: names }))).TargetGroups!;
    return { blue: groups.find((g) => g.TargetGroupName === names[0])!.TargetGroupArn!, green: groups.find((g) => g.TargetGroupName === names[1])!.TargetGroupArn! };
  }

  it('a new stack serves nothing: its listeners forward to a slot no release has tagged', async () => {
    const routing = elbRouting(clients.elbv2, TARGET);
    assert.deepEqual(await routing.read(), { live: null, staging: null });
    assert.deepEqual(await actionOn(LISTENERS.web), [forwardTo('blue', await arnsOf('web-ui'))]);
  });

  it('a failed first release is restored to serving nothing: the public listeners answer the fixed 503', async () => {
    const routing = elbRouting(clients.elbv2, TARGET);
    await routing.stage(V1, 'blue', null);
    const switched = await routing.switchTo(V1, 'blue', null);
    await routing.restore(switched);
    assert.deepEqual(await routing.read(), { live: null, staging: { slot: 'blue', releaseId: V1.image.releaseId } });
    assert.deepEqual(await actionOn(LISTENERS.web), [NOTHING_LIVE]);
    assert.deepEqual(await actionOn(LISTENERS.grpc), [NOTHING_LIVE]);
  });

  it('stage points only the test listeners at the idle slot and tags its target groups with the release; users see nothing', async () => {
    const routing = elbRouting(clients.elbv2, TARGET);
    await routing.stage(V1, 'green', null);
    assert.deepEqual(await routing.read(), { live: null, staging: { slot: 'green', releaseId: V1.image.releaseId } });
    assert.deepEqual(await actionOn(LISTENERS.web), [NOTHING_LIVE], 'users reach no release before the switch');
    assert.deepEqual(await actionOn(LISTENERS.grpc), [NOTHING_LIVE]);
    assert.deepEqual(await actionOn(LISTENERS.stagingWeb), [forwardTo('green', await arnsOf('web-ui'))]);
    assert.deepEqual(await actionOn(LISTENERS.stagingGrpc), [forwardTo('green', await arnsOf('sensor-api'))]);
    const grpcArns = await arnsOf('sensor-api');
    const tags = await clients.elbv2.send(new DescribeTagsCommand({ ResourceArns: [grpcArns.green] }));
    assert.equal(tags.TagDescriptions![0]!.Tags!.find((t) => t.Key === RELEASE_TAG)?.Value, V1.image.releaseId);
  });

  it('staging the slot a new stack\'s listeners forward to never lets users reach it before the switch', async () => {
    const routing = elbRouting(clients.elbv2, TARGET);
    await routing.stage(V1, 'blue', null);
    assert.deepEqual(await routing.read(), { live: null, staging: { slot: 'blue', releaseId: V1.image.releaseId } });
    assert.deepEqual(await actionOn(LISTENERS.web), [NOTHING_LIVE]);
    assert.deepEqual(await actionOn(LISTENERS.grpc), [NOTHING_LIVE]);
  });

  it('a switch refuses when what serves is not what the release read, and changes nothing', async () => {
    const routing = elbRouting(clients.elbv2, TARGET);
    await routing.stage(V1, 'blue', null);
    const before = await actionOn(LISTENERS.web);
    await assert.rejects(routing.switchTo(V1, 'blue', { slot: 'green', releaseId: 'not-live' }), /serves nothing, not not-live \(green\)/);
    assert.equal((await routing.read()).live, null);
    assert.deepEqual(await actionOn(LISTENERS.web), before);
  });

  it('a switch moves both public listeners to weight 100 on the new slot and 0 on the other, at once', async () => {
    const routing = elbRouting(clients.elbv2, TARGET);
    await routing.stage(V1, 'blue', null);
    const switched = await routing.switchTo(V1, 'blue', null);
    assert.deepEqual(switched.previous, { live: null, staging: { slot: 'blue', releaseId: V1.image.releaseId } });
    assert.deepEqual(switched.routing, { live: { slot: 'blue', releaseId: V1.image.releaseId }, staging: null });
    assert.deepEqual(await actionOn(LISTENERS.web), [forwardTo('blue', await arnsOf('web-ui'))]);
    assert.deepEqual(await actionOn(LISTENERS.grpc), [forwardTo('blue', await arnsOf('sensor-api'))]);
    const weights = (await actionOn(LISTENERS.web))![0]!.ForwardConfig!.TargetGroups!.map((tg) => tg.Weight);
    assert.deepEqual(weights, [100, 0]);
    // A second process reads the same from AWS alone.
    assert.deepEqual(await elbRouting(clients.elbv2, TARGET).read(), switched.routing);
  });

  it('the next release goes to the other slot; the test listeners then reach the slot users left; restore puts everything back', async () => {
    const routing = elbRouting(clients.elbv2, TARGET);
    await routing.stage(V1, 'blue', null);
    await routing.switchTo(V1, 'blue', null);
    const live = (await routing.read()).live;
    await assert.rejects(routing.stage(V2, 'blue', live), /The blue slot serves users/);
    await routing.stage(V2, 'green', live);
    const switched = await routing.switchTo(V2, 'green', live);
    assert.deepEqual(await routing.read(), { live: { slot: 'green', releaseId: V2.image.releaseId }, staging: { slot: 'blue', releaseId: V1.image.releaseId } });
    assert.deepEqual(await actionOn(LISTENERS.grpc), [forwardTo('green', await arnsOf('sensor-api'))]);
    await routing.restore(switched);
    assert.deepEqual(await routing.read(), { live, staging: { slot: 'green', releaseId: V2.image.releaseId } });
    assert.deepEqual(await actionOn(LISTENERS.web), [forwardTo('blue', await arnsOf('web-ui'))]);
    assert.deepEqual(await actionOn(LISTENERS.grpc), [forwardTo('blue', await arnsOf('sensor-api'))]);
  });

  it('reading repairs a gRPC listener an interrupted switch left on the old slot', async () => {
    const routing = elbRouting(clients.elbv2, TARGET);
    await routing.stage(V1, 'blue', null);
    await routing.switchTo(V1, 'blue', null);
    await routing.stage(V2, 'green', { slot: 'blue', releaseId: V1.image.releaseId });
    // The web listener moved, then the process died before the gRPC one.
    const web = (await clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: await arnOfBalancer() }))).Listeners!.find((l) => l.Port === LISTENERS.web)!;
    await clients.elbv2.send(new ModifyListenerCommand({ ListenerArn: web.ListenerArn, DefaultActions: [forwardTo('green', await arnsOf('web-ui'))] }));
    assert.deepEqual(await actionOn(LISTENERS.grpc), [forwardTo('blue', await arnsOf('sensor-api'))]);
    const read = await elbRouting(clients.elbv2, TARGET).read();
    assert.deepEqual(read.live, { slot: 'green', releaseId: V2.image.releaseId });
    assert.deepEqual(await actionOn(LISTENERS.grpc), [forwardTo('green', await arnsOf('sensor-api'))]);
  });

  it('refuses a listener changed by hand to a split it cannot tell a live slot from, with the fix', async () => {
    const routing = elbRouting(clients.elbv2, TARGET);
    const web = (await clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: await arnOfBalancer() }))).Listeners!.find((l) => l.Port === LISTENERS.web)!;
    const arns = await arnsOf('web-ui');
    await clients.elbv2.send(
      new ModifyListenerCommand({ ListenerArn: web.ListenerArn, DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: arns.blue, Weight: 50 }, { TargetGroupArn: arns.green, Weight: 50 }] } }] }),
    );
    await assert.rejects(routing.read(), /does not route as a release leaves it[\s\S]*fix: .*modify-listener/);
  });

  it('names what is missing when the load balancer was not declared', async () => {
    await moto.reset();
    await assert.rejects(elbRouting(clients.elbv2, TARGET).read(), /The load balancer tk-test in eu-west-1 has no such load balancer[\s\S]*pulumi up/);
  });
});
