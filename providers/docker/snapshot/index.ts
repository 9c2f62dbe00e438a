export { DEFAULT_SNAPSHOT_TIMEOUT_MS, type SnapshotSpec } from './snapshot-commands.js';
export {
  describeSnapshotFolder,
  latestSnapshot,
  listSnapshots,
  newestVerified,
  readSnapshotFolder,
  type Snapshot,
  type SnapshotFolder,
  type SnapshotTrace,
} from './snapshot-folder.js';
export { formatSnapshotTime, parseSnapshotFileName, snapshotDumpName } from './snapshot-name.js';
export { DEFAULT_RETENTION_DAYS, applyRetention, planRetention, type RetentionPlan, type RetentionResult } from './retention.js';
export { restoreInstructions, restoreSnapshot, type RestoreResult } from './restore-snapshot.js';
export { planSnapshot, takeSnapshot, type SnapshotPlan, type TakeSnapshotOptions } from './take-snapshot.js';
export { findSnapshot, verifySnapshot, type SnapshotVerification } from './verify-snapshot.js';
export { countRows, swapInRestoredDatabase } from './replace-database.js';
