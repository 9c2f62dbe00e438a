export {
  currentMachine,
  decideStale,
  describeHolder,
  formatAge,
  lockHolderForThisProcess,
  type LockHolder,
  type MachineIdentity,
} from './lock-holder.js';
