import type { DockerEngine } from '../../providers/docker/engine.js';
import { DeployError } from '../errors.js';
import {
  endpointUrl,
  grpcHealthCheck,
  httpReadyzCheck,
  runHealthGate,
  withChecks,
  type GateThresholds,
  type HealthCheck,
} from '../health-gate/index.js';
import { TK_PATHS, type RoutedRelease } from '../proxy/constants.js';
import { restoreRouting, type SwitchResult } from '../proxy/switch-traffic.js';
import type { ReleaseSpec } from '../release/spec.js';
import { decideAfterVerification, type VerificationResult } from './decide.js';

/** How long the public endpoints may take to report a new release after a switch. */
export const DEFAULT_VERIFY_TIMEOUT_MS = 30_000;
/**
 * The longest pause between two verification rounds. The gate has already shown the slot healthy
 * for release.gate.intervalMs apart; verification checks the routing, and answers a quarter of
 * a second apart catch a route that flips back just as well, without seconds of waiting.
 */
export const MAX_VERIFY_INTERVAL_MS = 250;

/** What users reach through Caddy: the web UI, the sensor API's /readyz and its gRPC health. */
export function publicChecks(spec: ReleaseSpec, releaseId: string): HealthCheck[] {
  return [
    httpReadyzCheck('public web-ui /readyz', endpointUrl(spec.proxy.publicHttpUrl, '/readyz'), releaseId),
    httpReadyzCheck('public sensor-api /readyz', endpointUrl(spec.proxy.publicHttpUrl, `${TK_PATHS.sensorApi}/readyz`), releaseId),
    grpcHealthCheck('public sensor-api gRPC health', spec.proxy.publicGrpcAddress),
  ];
}

export type VerifyOptions = Partial<GateThresholds>;

function thresholds(spec: ReleaseSpec, options: VerifyOptions): GateThresholds {
  return {
    successes: options.successes ?? spec.gate.successes,
    intervalMs: options.intervalMs ?? Math.min(spec.gate.intervalMs, MAX_VERIFY_INTERVAL_MS),
    timeoutMs: options.timeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS,
  };
}

/**
 * Polls the public endpoints until they report `intended` (consecutively, like the gate) or the
 * timeout passes. Resolves either way; `decideAfterVerification` says what to do.
 */
export async function verifyPublicEndpoint(spec: ReleaseSpec, intended: RoutedRelease, options: VerifyOptions = {}): Promise<VerificationResult> {
  const started = performance.now();
  try {
    await withChecks(publicChecks(spec, intended.releaseId), (checks) =>
      runHealthGate(checks, { ...thresholds(spec, options), subject: `The public endpoint (${spec.proxy.publicHttpUrl})`, fix: '' }),
    );
    return { verified: true, durationMs: Math.round(performance.now() - started) };
  } catch (error) {
    if (!(error instanceof DeployError)) throw error;
    return { verified: false, durationMs: Math.round(performance.now() - started), failure: error.message };
  }
}

/**
 * The step after `switchTraffic`: verify through the public endpoints, and when they never
 * report the new release, put the previous routing back and throw DeployError.
 */
export async function verifySwitchOrRestore(
  engine: DockerEngine,
  spec: ReleaseSpec,
  switched: SwitchResult,
  options: VerifyOptions = {},
): Promise<VerificationResult> {
  const intended = switched.routing.live;
  if (!intended) throw new Error('verifySwitchOrRestore needs a switch to a live release');
  const result = await verifyPublicEndpoint(spec, intended, options);
  const decision = decideAfterVerification(result, { intended, previous: switched.previous });
  if (decision.action === 'commit') return result;
  let restored: string;
  try {
    await restoreRouting(engine, spec, switched);
    restored = 'The previous routing is back.';
  } catch (error) {
    restored = `Restoring the previous routing failed too: ${(error as Error).message}`;
  }
  throw new DeployError(
    `${decision.reason}\n${restored}`,
    `docker logs ${spec.proxy.container}; curl ${endpointUrl(spec.proxy.publicHttpUrl, '/readyz')}`,
  );
}
