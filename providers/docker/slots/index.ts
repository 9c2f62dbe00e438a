export { slotContainerName, slotContainers, SLOT_LABELS, type SlotContainer } from './names.js';
export { slotStopTimeoutSeconds, STOP_GRACE_SECONDS } from './stop-timeout.js';
export {
  planStartSlot,
  startSlot,
  assertSlotRunsRelease,
  resolveImageId,
  collectSecrets,
  type StartSlotPlan,
  type StartSlotOptions,
  type StartedSlot,
} from './start-slot.js';
export { inspectSlot, inspectContainer, findSlotProblems, parseContainerInspect, type SlotInspection } from './inspect-slot.js';
export {
  parkSlot,
  startParkedSlot,
  removeSlot,
  removeContainers,
  planStopContainer,
  planRemoveContainers,
  type ParkedContainer,
} from './lifecycle.js';
