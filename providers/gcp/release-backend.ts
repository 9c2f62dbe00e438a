import type { Bucket } from '@google-cloud/storage';
import type { ReleasePlan } from '../../components/release/plan.js';
import type { ImagesPort, ReleaseBackend } from '../../components/release/ports.js';
import { cloudRunDatabase } from './database/cloud-run-database.js';
import { tagUrlGate } from './gate/tag-url-gate.js';
import { gcsLockPort } from './lock/gcs-lock.js';
import { gcpTargetOf } from './plan-target.js';
import { cloudRunRouting } from './routing/cloud-run-routing.js';
import type { CloudRunClients } from './run/clients.js';
import type { CloudRunStack } from './run/stack.js';
import { cloudRunSlots } from './slots/cloud-run-slots.js';

export interface GcpBackendParts {
  clients: CloudRunClients;
  bucket: Bucket;
  /** Release images in Artifact Registry: not built yet (runtime.ts refuses without it). */
  images: ImagesPort;
  progress?: (line: string) => void;
}

/**
 * The release pipeline's ports on GCP: the deploy lock in the release-state bucket, Cloud Run
 * revisions as slots with traffic tags as routes, Cloud Run jobs for the database steps, the gate
 * through tag URLs. `plan` is the stack's current plan: where its services and bucket are.
 */
export function gcpReleaseBackend(plan: ReleasePlan, parts: GcpBackendParts): ReleaseBackend {
  const target = gcpTargetOf(plan);
  const stack: CloudRunStack = { target, clients: parts.clients, progress: parts.progress ?? (() => undefined) };
  return {
    lock: gcsLockPort({ stack: plan.stack, bucket: parts.bucket }),
    routing: cloudRunRouting(stack),
    slots: cloudRunSlots(stack),
    database: cloudRunDatabase(stack, parts.bucket, plan.database.name),
    images: parts.images,
    gate: tagUrlGate(stack),
  };
}
