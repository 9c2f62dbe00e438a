/**
 * A data plane for the AWS backend's tests, beside moto (which emulates the AWS APIs and runs
 * nothing): ECS services whose tasks run on the local Docker engine (ecs-services.ts), the load
 * balancer's health checks of their targets (target-health.ts), and the load balancer's listeners
 * as TLS proxies on 127.0.0.1 (load-balancer.ts). It is a stand-in, not AWS: it reads what the
 * release wrote into moto and acts on it the way ECS and the ALB would, so the release's own calls
 * all go to moto through the real SDK clients. What moto cannot answer is answered through the
 * release's client mocks: DescribeServices' counts and deployments, ListTasks/DescribeTasks of
 * service tasks (ECS client, shared with ecs-tasks-on-docker.ts), and DescribeTargetHealth
 * (ELBv2 client, that call only).
 */
import { ECSClient } from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, type DescribeTargetHealthCommandInput } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsListenerPorts } from '../../../providers/aws/plan-target.js';
import type { TaskRunner } from '../ecs-tasks-on-docker.js';
import { selfSignedCertificate, type TestCertificate } from './certificate.js';
import { runEcsServicesOnDocker, type EcsServicesOnDocker } from './ecs-services.js';
import { startLoadBalancerStandIn, type LoadBalancerStandIn } from './load-balancer.js';
import { targetHealthChecker, type TargetHealthChecker } from './target-health.js';

export interface DataPlaneOptions {
  motoUrl: string;
  region: string;
  /** The one-off task runner on the release's ECS client (its mock is extended). */
  runner: TaskRunner;
  /** The release's ELBv2 client: its DescribeTargetHealth is answered with the checker's states. */
  elbv2: ElasticLoadBalancingV2Client;
  image(ref: string): string;
  cluster: string;
  loadBalancer: string;
}

export interface DataPlane {
  /** Ports of the load balancer's listeners on 127.0.0.1: declare the listeners on them. */
  listeners: AwsListenerPorts;
  /** The listeners' certificate (for 127.0.0.1); its PEM is the root the gate trusts. */
  certificate: TestCertificate;
  services: EcsServicesOnDocker;
  health: TargetHealthChecker;
  loadBalancer: LoadBalancerStandIn;
  stop(): Promise<void>;
}

export async function startDataPlane(options: DataPlaneOptions): Promise<DataPlane> {
  const common = { region: options.region, endpoint: options.motoUrl };
  const ecs = new ECSClient(common);
  const elbv2 = new ElasticLoadBalancingV2Client(common);
  const secrets = new SecretsManagerClient(common);
  const health = targetHealthChecker(elbv2);
  const services = runEcsServicesOnDocker(options.runner, { ecs, elbv2, secrets, image: options.image, cluster: options.cluster, region: options.region, health });
  const certificate = selfSignedCertificate('127.0.0.1');
  const loadBalancer = await startLoadBalancerStandIn({ elbv2, loadBalancer: options.loadBalancer, certificate, health, hostPort: services.hostPort });
  const elbMock = mockClient(options.elbv2);
  elbMock.send.callThrough();
  elbMock.on(DescribeTargetHealthCommand).callsFake(async (input: DescribeTargetHealthCommandInput) => {
    const registered = await elbv2.send(new DescribeTargetHealthCommand(input));
    return { ...registered, TargetHealthDescriptions: health.describe(input.TargetGroupArn!, registered.TargetHealthDescriptions ?? []) };
  });
  return {
    listeners: loadBalancer.listeners,
    certificate,
    services,
    health,
    loadBalancer,
    async stop() {
      elbMock.restore();
      await loadBalancer.stop();
      await services.stop();
      health.stop();
      ecs.destroy();
      elbv2.destroy();
      secrets.destroy();
    },
  };
}
