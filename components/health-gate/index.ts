export {
  INITIAL_GATE_STATE,
  recordRound,
  gatePassed,
  describeGateFailure,
  type CheckOutcome,
  type RoundResult,
  type GateState,
  type GateThresholds,
} from './gate-state.js';
export {
  endpointUrl,
  evaluateReadyz,
  readyzOutcome,
  grpcHealthOutcome,
  httpReadyzCheck,
  grpcHealthCheck,
  type HealthCheck,
  type HttpAnswer,
  type GrpcHealthAnswer,
} from './checks.js';
export { runHealthGate, DEFAULT_REQUEST_TIMEOUT_MS, type HealthGateOptions, type GateReport } from './run-health-gate.js';
export { grpcChannel, httpsGet, describeSocketError, type ClientTls, type HttpsAnswer } from './client-tls.js';
