import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { endpointUrl, grpcHealthCheck, httpReadyzCheck, type HealthCheck } from '../../../components/health-gate/checks.js';
import type { ClientTls } from '../../../components/health-gate/client-tls.js';
import { APP_SERVICES, type ReleasePlan, type Slot } from '../../../components/release/plan.js';
import type { CheckSet, GatePort } from '../../../components/release/ports.js';
import type { AwsTargetPlan } from '../plan-target.js';
import { targetGroupHealthCheck } from './target-health.js';

/**
 * The GatePort of an AWS stack. The staged slot passes when the load balancer counts every one of
 * its targets healthy (gate/target-health.ts) AND the app answers through the test listeners as a
 * user would reach it: the web UI's /readyz reporting the release over HTTPS on the staging web
 * port, the sensor API's gRPC health over TLS on the staging gRPC port, both by the stack's domain
 * (the certificate's name). After the switch the same probes go to the public listeners.
 */
export function domainOf(plan: ReleasePlan): string {
  return new URL(plan.endpoints.publicHttpUrl).hostname;
}

/** Pure: what the gate probes through the test listeners (the HTTP and gRPC part of the staging checks). */
export function stagingProbes(plan: ReleasePlan, target: AwsTargetPlan): Array<{ kind: 'http' | 'grpc'; name: string; address: string }> {
  const domain = domainOf(plan);
  return [
    { kind: 'http', name: 'staging web-ui /readyz', address: `https://${domain}:${target.listeners.stagingWeb}/readyz` },
    { kind: 'grpc', name: 'staging sensor-api gRPC health', address: `${domain}:${target.listeners.stagingGrpc}` },
  ];
}

function probe(p: { kind: 'http' | 'grpc'; name: string; address: string }, plan: ReleasePlan, tls: ClientTls): HealthCheck {
  return p.kind === 'http' ? httpReadyzCheck(p.name, p.address, plan.image.releaseId, tls) : grpcHealthCheck(p.name, p.address, '', tls);
}

function closing(checks: HealthCheck[]): CheckSet {
  return {
    checks,
    async close() {
      for (const check of checks) check.close();
    },
  };
}

export interface AlbGateOptions {
  /**
   * PEM roots the probes trust instead of the public CAs Node ships. An ALB presents the stack's
   * ACM certificate, which the public CAs cover, so a stack needs none; a test bed whose load
   * balancer stand-in presents a test certificate passes its CA here. The probes, their addresses
   * and their checks are the same either way.
   */
  ca?: string;
}

export function albGate(elbv2: ElasticLoadBalancingV2Client, target: AwsTargetPlan, options: AlbGateOptions = {}): GatePort {
  const tlsFor = (serverName: string): ClientTls => ({ serverName, ...(options.ca !== undefined ? { ca: options.ca } : {}) });
  return {
    async staging(plan: ReleasePlan, slot: Slot) {
      const domain = domainOf(plan);
      const counts = (plan.target as { desiredCount?: Record<string, number> }).desiredCount ?? target.desiredCount;
      return closing([
        ...APP_SERVICES.map((service) => targetGroupHealthCheck(elbv2, target.targetGroups[slot][service], counts[service] ?? 1)),
        ...stagingProbes(plan, target).map((p) => probe(p, plan, tlsFor(domain))),
      ]);
    },
    async public(plan: ReleasePlan) {
      const domain = domainOf(plan);
      return closing([
        httpReadyzCheck('public web-ui /readyz', endpointUrl(plan.endpoints.publicHttpUrl, '/readyz'), plan.image.releaseId, tlsFor(domain)),
        grpcHealthCheck('public sensor-api gRPC health', plan.endpoints.publicGrpcAddress, '', tlsFor(domain)),
      ]);
    },
    diagnose(subject: Slot | 'router') {
      if (subject === 'router') {
        return (
          `aws elbv2 describe-listeners --region ${target.region} --load-balancer-arn "$(aws elbv2 describe-load-balancers --region ${target.region} --names ${target.loadBalancer} --query 'LoadBalancers[0].LoadBalancerArn' --output text)"; ` +
          `and check that the DNS name of the stack points at the load balancer (the loadBalancerDnsName output)`
        );
      }
      return APP_SERVICES.map(
        (service) =>
          `aws elbv2 describe-target-health --region ${target.region} --target-group-arn "$(aws elbv2 describe-target-groups --region ${target.region} --names ${target.targetGroups[subject][service]} --query 'TargetGroups[0].TargetGroupArn' --output text)"; ` +
          `aws ecs describe-services --region ${target.region} --cluster ${target.cluster} --services ${target.services[subject][service]} --query 'services[0].events[:5]'`,
      ).join('; ');
    },
  };
}
