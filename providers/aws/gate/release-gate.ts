import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { endpointUrl, grpcHealthCheck, httpReadyzCheck, type HealthCheck } from '../../../components/health-gate/checks.js';
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

function probe(p: { kind: 'http' | 'grpc'; name: string; address: string }, plan: ReleasePlan, serverName: string): HealthCheck {
  return p.kind === 'http' ? httpReadyzCheck(p.name, p.address, plan.image.releaseId, { serverName }) : grpcHealthCheck(p.name, p.address, '', { serverName });
}

function closing(checks: HealthCheck[]): CheckSet {
  return {
    checks,
    async close() {
      for (const check of checks) check.close();
    },
  };
}

export function albGate(elbv2: ElasticLoadBalancingV2Client, target: AwsTargetPlan): GatePort {
  return {
    async staging(plan: ReleasePlan, slot: Slot) {
      const domain = domainOf(plan);
      const counts = (plan.target as { desiredCount?: Record<string, number> }).desiredCount ?? target.desiredCount;
      return closing([
        ...APP_SERVICES.map((service) => targetGroupHealthCheck(elbv2, target.targetGroups[slot][service], counts[service] ?? 1)),
        ...stagingProbes(plan, target).map((p) => probe(p, plan, domain)),
      ]);
    },
    async public(plan: ReleasePlan) {
      const domain = domainOf(plan);
      return closing([
        httpReadyzCheck('public web-ui /readyz', endpointUrl(plan.endpoints.publicHttpUrl, '/readyz'), plan.image.releaseId, { serverName: domain }),
        grpcHealthCheck('public sensor-api gRPC health', plan.endpoints.publicGrpcAddress, '', { serverName: domain }),
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
