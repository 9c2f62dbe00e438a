export {
  acquireDeployLock,
  breakDeployLock,
  breakLockCommand,
  readDeployLock,
  DeployLockHeldError,
  type AcquireDeployLockOptions,
  type BreakDeployLockOptions,
  type DeployLock,
  type DeployLockStatus,
  type LockSpec,
} from './deploy-lock.js';
export { DEFAULT_LOCK_IMAGE, DEFAULT_LOCK_POLL_MS, lockContainerName } from './lock-commands.js';
