import type { ArtifactRegistryClient } from '@google-cloud/artifact-registry';
import type { Bucket } from '@google-cloud/storage';
import type { ReleasePlan } from '../../components/release/plan.js';
import { SLOTS } from '../../components/release/plan.js';
import type { ReleaseBackend } from '../../components/release/ports.js';
import { cloudRunDatabase } from './database/cloud-run-database.js';
import { tagUrlGate } from './gate/tag-url-gate.js';
import { artifactRegistryImages } from './images/artifact-registry-images.js';
import { gcsLockPort } from './lock/gcs-lock.js';
import { gcpTargetOf } from './plan-target.js';
import { cloudRunRouting } from './routing/cloud-run-routing.js';
import type { CloudRunClients } from './run/clients.js';
import type { CloudRunStack } from './run/stack.js';
import { cloudRunSlots } from './slots/cloud-run-slots.js';

export interface GcpBackendParts {
  clients: CloudRunClients;
  bucket: Bucket;
  /** Release images in the stack's Artifact Registry repository. */
  artifactRegistry: ArtifactRegistryClient;
  progress?: (line: string) => void;
}

/**
 * The release pipeline's ports on GCP: the deploy lock in the release-state bucket, Cloud Run
 * revisions as slots with traffic tags as routes, Cloud Run jobs for the database steps, the gate
 * through tag URLs, release images in Artifact Registry. `plan` is the stack's current plan: where its services and bucket are.
 */
export function gcpReleaseBackend(plan: ReleasePlan, parts: GcpBackendParts): ReleaseBackend {
  const target = gcpTargetOf(plan);
  const stack: CloudRunStack = { target, clients: parts.clients, progress: parts.progress ?? (() => undefined) };
  const slots = cloudRunSlots(stack);
  return {
    lock: gcsLockPort({ stack: plan.stack, bucket: parts.bucket }),
    routing: cloudRunRouting(stack),
    slots,
    database: cloudRunDatabase(stack, parts.bucket, plan.database.name),
    images: artifactRegistryImages(parts.artifactRegistry, {
      inUse: async () => (await Promise.all(SLOTS.map((slot) => slots.describe(slot)))).flatMap((record) => (record ? [record.plan.image.ref] : [])),
    }),
    gate: tagUrlGate(stack),
  };
}
