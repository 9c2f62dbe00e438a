export {
  drainSlot,
  assessDrain,
  drainOutcome,
  type DrainReport,
  type DrainOutcome,
} from './drain-slot.js';
