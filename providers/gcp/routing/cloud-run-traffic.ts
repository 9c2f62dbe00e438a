import { ServicesClient } from '@google-cloud/run';
import { DeployError } from '../../../components/errors.js';
import type { Slot } from '../../../components/release/plan.js';
import { QUOTA_FIX, isQuotaRefusal, quotaMessage } from '../run/clients.js';
import { planRestore, planStage, planSwitch, planUntag, type PinnedTarget, type ServiceTraffic } from './traffic-plan.js';

/**
 * The thin I/O around the traffic plans (traffic-plan.ts): read a Cloud Run service's traffic,
 * write a planned list back in one update whose etag makes it refuse when the service changed
 * since it was read, and wait for Cloud Run to have applied it. Only the `traffic` field is
 * written (update mask), so the template Pulumi declared and the revisions stay as they are.
 *
 * Tested through the real ServicesClient against a local gRPC emulator of these two calls
 * (cloud-run-emulator.ts, built from the protos @google-cloud/run ships), not against Cloud Run.
 */
export interface ServiceTrafficSnapshot extends ServiceTraffic {
  /** Full service name, projects/<p>/locations/<r>/services/<s>. */
  name: string;
  etag: string;
}

export function cloudRunServiceName(project: string, region: string, service: string): string {
  return `projects/${project}/locations/${region}/services/${service}`;
}

export class CloudRunTraffic {
  constructor(
    private readonly client: ServicesClient,
    readonly name: string,
  ) {}

  async read(): Promise<ServiceTrafficSnapshot> {
    const [service] = await this.client.getService({ name: this.name });
    return {
      name: this.name,
      etag: service.etag ?? '',
      traffic: (service.traffic ?? []).map((t) => ({ type: typeof t.type === 'string' ? t.type : null, revision: t.revision ?? null, percent: t.percent ?? 0, tag: t.tag ?? null })),
      latestReadyRevision: service.latestReadyRevision ?? undefined,
    };
  }

  /**
   * Names the serving revision instead of LATEST, before a release creates its revision (a
   * revision created while traffic follows LATEST would get users before its gate).
   */
  pinServing(current: ServiceTrafficSnapshot): Promise<ServiceTrafficSnapshot> {
    return this.write(current, planRestore(current));
  }

  stage(current: ServiceTrafficSnapshot, slot: Slot, revision: string): Promise<ServiceTrafficSnapshot> {
    return this.write(current, planStage(current, slot, revision));
  }

  switchTo(current: ServiceTrafficSnapshot, slot: Slot): Promise<ServiceTrafficSnapshot> {
    return this.write(current, planSwitch(current, slot));
  }

  /** Puts back `previous`, read before a switch; guarded by the etag the switch left. */
  restore(afterSwitch: ServiceTrafficSnapshot, previous: ServiceTraffic): Promise<ServiceTrafficSnapshot> {
    return this.write(afterSwitch, planRestore(previous));
  }

  untag(current: ServiceTrafficSnapshot, slot: Slot): Promise<ServiceTrafficSnapshot> {
    return this.write(current, planUntag(current, slot));
  }

  /** Writes a planned traffic list, refused when the service changed since `current` was read. */
  async write(current: ServiceTrafficSnapshot, traffic: PinnedTarget[]): Promise<ServiceTrafficSnapshot> {
    try {
      const [operation] = await this.client.updateService({
        service: { name: this.name, etag: current.etag, traffic: traffic.map((t) => ({ type: t.type, revision: t.revision, percent: t.percent, ...(t.tag ? { tag: t.tag } : {}) })) },
        updateMask: { paths: ['traffic'] },
      });
      await operation.promise();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      // gRPC ABORTED / FAILED_PRECONDITION: the etag no longer matches.
      if (code === 10 || code === 9) {
        throw new DeployError(
          `The traffic of ${this.name} changed while this release was moving it (someone else updated the service)`,
          'check who changed it (`gcloud run services describe`), then run pulumi up again',
        );
      }
      if (isQuotaRefusal(error)) throw new DeployError(quotaMessage(`Updating the traffic of ${this.name}`), QUOTA_FIX);
      throw new DeployError(`Cannot update the traffic of ${this.name}: ${(error as Error).message}`, 'check the release\'s credentials (roles/run.developer on the service), then run pulumi up again');
    }
    return this.read();
  }
}
