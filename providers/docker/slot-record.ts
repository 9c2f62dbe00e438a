import type { SlotRecord } from '../../components/release/ports.js';
import type { Slot } from '../../components/release/plan.js';
import { DeployError } from '../../components/errors.js';
import { SLOT_LABELS, slotContainerName } from './slots/names.js';
import type { DockerEngine } from './engine.js';
import { parseDockerReleasePlan } from './release-plan.js';

interface ContainerInspect {
  Name?: string;
  Created?: string;
  State?: { Running?: boolean };
  Config?: { Labels?: Record<string, string> };
}

/**
 * The release a slot holds, from its web-ui container: the plan label (or, on slots an older
 * toolkit started, the release spec label it wrote then), when it was created and whether it runs.
 */
export function parseSlotRecord(slot: Slot, inspectJson: string): SlotRecord | undefined {
  const [container] = JSON.parse(inspectJson) as ContainerInspect[];
  const labels = container?.Config?.Labels ?? {};
  const label = labels[SLOT_LABELS.plan] ?? labels[SLOT_LABELS.legacySpec];
  if (!container || !label) return undefined;
  const name = (container.Name ?? '').replace(/^\//, '');
  const plan = parseDockerReleasePlan(
    label,
    `the labels of container ${name}`,
    `that slot cannot be rolled back to; release again with \`pulumi up\` (docker rm -f ${name} removes the slot)`,
  );
  return { slot, plan, startedAt: new Date(container.Created ?? 0), running: container.State?.Running === true };
}

/** The release a slot holds (running or parked), or undefined when the slot is empty. */
export async function readSlotRecord(engine: DockerEngine, prefix: string, slot: Slot): Promise<SlotRecord | undefined> {
  const name = slotContainerName(prefix, slot, 'web-ui');
  const result = await engine.exec(['container', 'inspect', name]);
  if (result.exitCode !== 0) {
    if (/no such (container|object)/i.test(result.stderr)) return undefined;
    throw new DeployError(`Cannot inspect ${name}: ${result.stderr.trim()}`, 'check that the Docker engine answers (docker info)');
  }
  return parseSlotRecord(slot, result.stdout);
}
