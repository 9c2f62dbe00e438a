export { decideAfterVerification, type VerificationResult, type SwitchDecision } from './decide.js';
export { verificationThresholds, DEFAULT_VERIFY_TIMEOUT_MS, MAX_VERIFY_INTERVAL_MS } from './thresholds.js';
