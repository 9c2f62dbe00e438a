export { decideAfterVerification, type VerificationResult, type SwitchDecision } from './decide.js';
export {
  verifyPublicEndpoint,
  verifySwitchOrRestore,
  publicChecks,
  DEFAULT_VERIFY_TIMEOUT_MS,
  type VerifyOptions,
} from './verify-public-endpoint.js';
