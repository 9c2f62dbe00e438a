import type * as pulumi from '@pulumi/pulumi';
import type { ReleaseSummary } from '../components/release/pipeline.js';
import type { ReleasePlan, Slot } from '../components/release/plan.js';
import type { ProviderName } from './config.js';

/**
 * What a deployment target (docker now; aws, gcp later) declares for a stack. Each operation the
 * toolkit needs is a Pulumi resource of the target, so `pulumi up` orders them and `pulumi
 * destroy` undoes them:
 *   provision  `infrastructure`: the stable part (network, database, proxy), unchanged by releases;
 *   build      `image`: the app image of this commit;
 *   deploy     `release`: runs the release (snapshot, migrate, start the idle slot, health gate,
 *              switch, verify, drain) and completes only once the public endpoint serves it;
 *   health     `status`: what the release reported live after verification;
 *   roll back  `rollbackCommand`: what a person runs to put the previous release back live through
 *              `pulumi up` (a config pin), so the outputs keep telling the truth;
 *   clean up   `cleanup`: on `pulumi destroy`, removes the release's slots (and, for an
 *              ephemeral stack, takes a final snapshot first).
 */
export interface DeploymentTarget {
  readonly provider: ProviderName;
  readonly infrastructure: pulumi.Resource;
  readonly image: { readonly resource: pulumi.Resource; readonly ref: pulumi.Output<string> };
  readonly release: pulumi.Resource;
  readonly cleanup: pulumi.Resource;
  readonly endpoints: TargetEndpoints;
  /** The release plan of this commit and config (components/release/plan.ts). */
  readonly releasePlan: ReleasePlan;
  readonly status: ReleaseStatus;
  /** The shell commands that roll back to the previous release, or a sentence when there is none. */
  readonly rollbackCommand: pulumi.Output<string>;
  /** Stack outputs only this target has (AWS: the load balancer's DNS name, for the domain's record). */
  readonly targetOutputs?: Readonly<Record<string, pulumi.Output<string>>>;
}

export interface TargetEndpoints {
  publicHttpUrl: pulumi.Output<string>;
  publicGrpcAddress: pulumi.Output<string>;
  /** Grafana, with monitoring.enabled (on the target host's loopback unless configured). */
  grafanaUrl?: pulumi.Output<string>;
}

/** The state the release CLI reports after a verified release (its JSON summary line). */
export type { ReleaseSummary };

export type ReleaseStatus = { [K in keyof ReleaseSummary]: pulumi.Output<ReleaseSummary[K]> };
