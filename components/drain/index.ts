export {
  drainSlot,
  drainAfterSwitch,
  assessDrain,
  drainOutcome,
  type DrainReport,
  type DrainOutcome,
} from './drain-slot.js';
