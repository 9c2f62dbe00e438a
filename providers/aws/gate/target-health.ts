import { DescribeTargetGroupsCommand, DescribeTargetHealthCommand, type ElasticLoadBalancingV2Client, type TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { HealthCheck } from '../../../components/health-gate/checks.js';
import type { CheckOutcome } from '../../../components/health-gate/gate-state.js';

/**
 * One part of the AWS health gate: the load balancer's own view of the idle slot. A target group
 * passes only when it has at least the slot's desired number of targets and every one of them is
 * `healthy` (a target still in `initial`, `unhealthy`, `draining` or `unavailable` fails the
 * round, with its reason), so the gate never promotes a slot the load balancer would not send to.
 */
export function targetHealthOutcome(targetGroup: string, descriptions: readonly TargetHealthDescription[], desired: number): CheckOutcome {
  const describe = (d: TargetHealthDescription) => {
    const where = `${d.Target?.Id ?? '?'}:${d.Target?.Port ?? '?'}`;
    const state = d.TargetHealth?.State ?? 'unknown';
    const reason = d.TargetHealth?.Reason ? ` (${d.TargetHealth.Reason}${d.TargetHealth.Description ? `: ${d.TargetHealth.Description}` : ''})` : '';
    return `${where} ${state}${reason}`;
  };
  const healthy = descriptions.filter((d) => d.TargetHealth?.State === 'healthy').length;
  const all = descriptions.map(describe).join(', ');
  if (healthy === descriptions.length && healthy >= desired) return { ok: true, detail: `${targetGroup}: ${healthy} of ${desired} targets healthy` };
  if (descriptions.length === 0) return { ok: false, detail: `${targetGroup}: no target registered yet (${desired} expected)` };
  return { ok: false, detail: `${targetGroup}: ${healthy} of ${Math.max(desired, descriptions.length)} targets healthy: ${all}` };
}

/** The check the gate polls for one target group of the idle slot. */
export function targetGroupHealthCheck(client: ElasticLoadBalancingV2Client, targetGroup: string, desired: number): HealthCheck {
  let arn: string | undefined;
  // A round cut short by the gate's deadline keeps the reason the round before it saw.
  let lastAnswer: CheckOutcome | undefined;
  return {
    name: `load balancer health of ${targetGroup}`,
    async run(timeoutMs) {
      const abortSignal = AbortSignal.timeout(timeoutMs);
      try {
        arn ??= (await client.send(new DescribeTargetGroupsCommand({ Names: [targetGroup] }), { abortSignal })).TargetGroups?.[0]?.TargetGroupArn;
        if (!arn) return { ok: false, detail: `${targetGroup}: no such target group` };
        const { TargetHealthDescriptions: descriptions } = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }), { abortSignal });
        lastAnswer = targetHealthOutcome(targetGroup, descriptions ?? [], desired);
        return lastAnswer;
      } catch (error) {
        if (abortSignal.aborted && lastAnswer) return { ok: false, detail: `${lastAnswer.detail} (then no answer within ${timeoutMs} ms)` };
        return { ok: false, detail: `${targetGroup}: ${(error as Error).name}: ${(error as Error).message}` };
      }
    },
    close() {},
  };
}
