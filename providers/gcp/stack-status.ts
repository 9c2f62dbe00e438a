import { describeHolder } from '../../components/lock/lock-holder.js';
import { SLOTS, type AppService, type Slot } from '../../components/release/plan.js';
import type { DeployEvents } from '../../components/events/deploy-events.js';
import type { StackStatusReport } from '../stack-file.js';
import { breakGcsLock, readGcsLock, type GcsLockStatus } from './lock/gcs-lock.js';
import { cloudRunRouting } from './routing/cloud-run-routing.js';
import { readSlots } from './routing/traffic-plan.js';
import { SERVICES, traffic, type CloudRunStack } from './run/stack.js';
import { withGcpParts, type GcpBackendOptions } from './runtime.js';
import { cloudRunSlots } from './slots/cloud-run-slots.js';
import { latestSnapshot } from './snapshot/snapshot-store.js';
import type { GcpStackRef } from './stack-file.js';

/** The status of a GCP stack: the shared report plus the revision of each service that has the traffic. */
export interface GcpStackStatusReport extends StackStatusReport {
  revisions: Record<AppService, string | null>;
}

/**
 * Reads a GCP stack's status from Cloud Run and its release-state bucket through the release's
 * own ports: the live slot and release (routing), the release each slot's revisions carry
 * (slots), the revision serving each service, the newest verified snapshot and the deploy lock.
 */
export async function readGcpStackStatus(ref: GcpStackRef, options: GcpBackendOptions = {}): Promise<GcpStackStatusReport> {
  return withGcpParts(ref.target, options, async (parts) => {
    const stack: CloudRunStack = { target: ref.target, clients: parts.clients, progress: () => undefined };
    const slots = cloudRunSlots(stack);
    const [routing, records, revisions, latest, lock] = await Promise.all([
      cloudRunRouting(stack).read(),
      Promise.all(SLOTS.map((slot) => slots.describe(slot))),
      Promise.all(SERVICES.map(async (service) => [service, readSlots(await traffic(stack, service).read()).live?.revision ?? null] as const)),
      latestSnapshot(parts.bucket, ref.database),
      readGcsLock({ stack: ref.stack, bucket: parts.bucket }),
    ]);
    return {
      live: routing.live,
      slots: Object.fromEntries(SLOTS.map((slot, index) => [slot, records[index]?.plan.image.releaseId ?? null])) as Record<Slot, string | null>,
      latestSnapshot: latest?.name ?? null,
      lock: describeGcsLock(lock),
      revisions: Object.fromEntries(revisions) as Record<AppService, string | null>,
    };
  });
}

/** `lock status` of a GCP stack: the holder, `free`, or why the lock object cannot be read. */
export async function gcpLockStatus(ref: GcpStackRef, options: GcpBackendOptions = {}): Promise<string> {
  return withGcpParts(ref.target, options, async (parts) => describeGcsLock(await readGcsLock({ stack: ref.stack, bucket: parts.bucket })));
}

/** `lock break` of a GCP stack: deletes the lock object whoever holds it (logged with who broke it and why). */
export async function breakGcpLock(ref: GcpStackRef, options: GcpBackendOptions & { events: DeployEvents; by: string; reason?: string }): Promise<void> {
  await withGcpParts(ref.target, options, async (parts) => {
    await breakGcsLock({ stack: ref.stack, bucket: parts.bucket }, { events: options.events, by: options.by, ...(options.reason ? { reason: options.reason } : {}) });
  });
}

function describeGcsLock(lock: GcsLockStatus): string {
  if (lock.state === 'held') return describeHolder(lock.holder, new Date());
  return lock.state === 'free' ? 'free' : `unreadable (${lock.problems.join('; ')})`;
}
