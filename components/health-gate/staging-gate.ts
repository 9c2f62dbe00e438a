import type { ReleaseSpec, Slot } from '../release/spec.js';
import { TK_PATHS } from '../proxy/constants.js';
import { slotContainers } from '../slots/names.js';
import { endpointUrl, grpcHealthCheck, httpReadyzCheck, type HealthCheck } from './checks.js';
import { runHealthGate, type GateReport } from './run-health-gate.js';

/**
 * The idle slot's checks, all through Caddy's staging listeners, i.e. the same proxy and upstream
 * addresses that will serve the slot once it is live.
 */
export function stagingChecks(spec: ReleaseSpec, releaseId: string): HealthCheck[] {
  return [
    httpReadyzCheck('web-ui /readyz', endpointUrl(spec.proxy.stagingHttpUrl, `${TK_PATHS.webUi}/readyz`), releaseId),
    httpReadyzCheck('sensor-api /readyz', endpointUrl(spec.proxy.stagingHttpUrl, `${TK_PATHS.sensorApi}/readyz`), releaseId),
    grpcHealthCheck('sensor-api gRPC health', spec.proxy.stagingGrpcAddress),
  ];
}

/** Runs `fn` with checks and closes them afterwards, whatever happens. */
export async function withChecks<T>(checks: HealthCheck[], fn: (checks: HealthCheck[]) => Promise<T>): Promise<T> {
  try {
    return await fn(checks);
  } finally {
    for (const check of checks) check.close();
  }
}

/**
 * The health gate of a release: the staged `slot` must answer every check, reporting this
 * release, `spec.gate.successes` times in a row within `spec.gate.timeoutMs`.
 */
export function runStagingGate(spec: ReleaseSpec, slot: Slot): Promise<GateReport> {
  const releaseId = spec.image.releaseId;
  return withChecks(stagingChecks(spec, releaseId), (checks) =>
    runHealthGate(checks, {
      ...spec.gate,
      subject: `The ${slot} slot (release ${releaseId})`,
      fix: `${slotContainers(spec.prefix, slot).map((c) => `docker logs ${c.name}`).join('; ')} (the live slot keeps serving; fix the cause and release again)`,
    }),
  );
}
