import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { DEFAULT_SENSOR_API_IDLE_TIMEOUT_MS } from '../../app/src/config/defaults.js';
import { APP_PORTS, APP_SERVICES, SLOTS, type AppService, type Slot } from '../../components/release/plan.js';
import type { AwsNames } from './names.js';
import type { AwsListenerPorts } from './plan-target.js';

/**
 * Seconds the load balancer keeps an idle connection (to clients and to targets). Below every
 * app keep-alive: web-ui's (Fastify's default, 72 s) and sensor-api's idle timeout
 * (DEFAULT_SENSOR_API_IDLE_TIMEOUT_MS, 300 s), so the load balancer always closes an idle
 * connection first and never sends a request down one the app is closing (a 502).
 */
export const ALB_IDLE_TIMEOUT_SECONDS = 60;
export const SENSOR_API_IDLE_TIMEOUT_MS = DEFAULT_SENSOR_API_IDLE_TIMEOUT_MS;
/** TLS policy of the HTTPS listeners: TLS 1.2 and 1.3 only. */
export const TLS_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';
/** The gRPC health service every sensor-api serves (grpc.health.v1), probed with the empty service name. */
export const GRPC_HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';

/** Seconds a deregistered target keeps its in-flight requests: the release's drain timeout. */
export function deregistrationDelaySeconds(drainTimeoutMs: number): number {
  return Math.ceil(drainTimeoutMs / 1000);
}

export interface AwsLoadBalancerArgs {
  names: AwsNames;
  vpcId: pulumi.Input<string>;
  subnetIds: pulumi.Input<string[]>;
  securityGroupId: pulumi.Input<string>;
  certificateArn: string;
  ports: AwsListenerPorts & { http: number };
  drainTimeoutMs: number;
  gate: { intervalMs: number; successes: number };
}

/**
 * The Application Load Balancer users and sensors reach: an HTTPS listener for the web UI, an
 * HTTPS listener for gRPC (sensor-api's target groups speak gRPC end to end), HTTP redirected to
 * HTTPS, and two test listeners the health gate reaches the idle slot through. Each service has a
 * target group per slot. Which slot a listener serves is the release's to change (routing/), so
 * Pulumi declares the listeners' initial forwarding and then leaves their default actions, and
 * the target groups' release tags, alone.
 */
export class AwsLoadBalancer extends pulumi.ComponentResource {
  readonly loadBalancer: aws.lb.LoadBalancer;
  readonly targetGroups: Record<Slot, Record<AppService, aws.lb.TargetGroup>>;
  readonly listeners: Record<'http' | keyof AwsListenerPorts, aws.lb.Listener>;

  constructor(name: string, args: AwsLoadBalancerArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('trapperkeeper:aws:LoadBalancer', name, {}, opts);
    const parent = { parent: this };
    this.loadBalancer = new aws.lb.LoadBalancer(
      `${name}-alb`,
      {
        name: args.names.loadBalancer,
        loadBalancerType: 'application',
        internal: false,
        subnets: args.subnetIds,
        securityGroups: [args.securityGroupId],
        idleTimeout: ALB_IDLE_TIMEOUT_SECONDS,
        dropInvalidHeaderFields: true,
        enableHttp2: true,
        ipAddressType: 'ipv4',
      },
      parent,
    );
    this.targetGroups = Object.fromEntries(SLOTS.map((slot) => [slot, Object.fromEntries(APP_SERVICES.map((service) => [service, this.createTargetGroup(name, args, slot, service)]))])) as AwsLoadBalancer['targetGroups'];
    this.listeners = {
      http: new aws.lb.Listener(
        `${name}-http`,
        {
          loadBalancerArn: this.loadBalancer.arn,
          port: args.ports.http,
          protocol: 'HTTP',
          defaultActions: [{ type: 'redirect', redirect: { protocol: 'HTTPS', port: String(args.ports.web), statusCode: 'HTTP_301' } }],
        },
        parent,
      ),
      web: this.createReleaseListener(name, 'web', args),
      grpc: this.createReleaseListener(name, 'grpc', args),
      stagingWeb: this.createReleaseListener(name, 'stagingWeb', args),
      stagingGrpc: this.createReleaseListener(name, 'stagingGrpc', args),
    };
    this.registerOutputs({ dnsName: this.loadBalancer.dnsName });
  }

  private createTargetGroup(name: string, args: AwsLoadBalancerArgs, slot: Slot, service: AppService): aws.lb.TargetGroup {
    const grpc = service === 'sensor-api';
    // The load balancer's own view of a target: as many consecutive checks as the release gate asks.
    const healthCheck = {
      enabled: true,
      interval: Math.max(5, Math.ceil(args.gate.intervalMs / 1000)),
      healthyThreshold: Math.min(10, Math.max(2, args.gate.successes)),
      unhealthyThreshold: 2,
      timeout: 4,
      port: 'traffic-port',
      ...(grpc ? { protocol: 'HTTP', path: GRPC_HEALTH_CHECK_PATH, matcher: '0' } : { protocol: 'HTTP', path: '/readyz', matcher: '200' }),
    };
    return new aws.lb.TargetGroup(
      `${name}-${slot}-${service}`,
      {
        name: args.names.targetGroup(slot, service),
        vpcId: args.vpcId,
        targetType: 'ip',
        port: grpc ? APP_PORTS.sensorApiGrpc : APP_PORTS.webUi,
        protocol: 'HTTP',
        protocolVersion: grpc ? 'GRPC' : 'HTTP1',
        deregistrationDelay: deregistrationDelaySeconds(args.drainTimeoutMs),
        healthCheck,
      },
      // The release tags a target group with the release its slot holds.
      { parent: this, ignoreChanges: ['tags', 'tagsAll'] },
    );
  }

  private createReleaseListener(name: string, role: keyof AwsListenerPorts, args: AwsLoadBalancerArgs): aws.lb.Listener {
    const service: AppService = role === 'web' || role === 'stagingWeb' ? 'web-ui' : 'sensor-api';
    // ECS creates a service only for a target group its load balancer already forwards to, so every
    // listener starts forwarding to both slots (blue 100, green 0). No release has tagged either
    // slot yet, so the routing reads this as serving nothing; blue has no task, so it answers 503.
    const initial = {
      type: 'forward',
      forward: {
        targetGroups: SLOTS.map((slot) => ({ arn: this.targetGroups[slot][service].arn, weight: slot === 'blue' ? 100 : 0 })),
        stickiness: { enabled: false, duration: 1 },
      },
    };
    return new aws.lb.Listener(
      `${name}-${role}`,
      {
        loadBalancerArn: this.loadBalancer.arn,
        port: args.ports[role],
        protocol: 'HTTPS',
        sslPolicy: TLS_POLICY,
        certificateArn: args.certificateArn,
        defaultActions: [initial],
      },
      // Where it forwards (blue or green, weights) is the release's: `pulumi up` must never put it back.
      { parent: this, ignoreChanges: ['defaultActions'] },
    );
  }
}
