import type { DockerEngine } from '../../providers/docker/engine.js';
import { PROXY_PORTS, TK_PATHS } from '../proxy/constants.js';
import type { ReleaseSpec, Slot } from '../release/spec.js';
import { slotContainers } from '../slots/names.js';
import { endpointUrl, grpcHealthOutcome, readyzOutcome, type HealthCheck } from './checks.js';
import { NetworkProbe, type NetworkProbeOptions } from './network-probe.js';
import { runHealthGate, type GateReport } from './run-health-gate.js';

/**
 * Where the gate's probes go, as seen from the stack's network: Caddy's staging listeners by
 * the proxy container's name, i.e. the same proxy and the same upstream addresses that will
 * serve the slot once it is live. Host-published ports (spec.proxy.staging*) are not used, so
 * a remote Docker engine needs no tunnel.
 */
export function stagingTargets(spec: Pick<ReleaseSpec, 'proxy'>): { webUiReadyz: string; sensorApiReadyz: string; grpc: string } {
  const http = `http://${spec.proxy.container}:${PROXY_PORTS.stagingHttp}`;
  return {
    webUiReadyz: endpointUrl(http, `${TK_PATHS.webUi}/readyz`),
    sensorApiReadyz: endpointUrl(http, `${TK_PATHS.sensorApi}/readyz`),
    grpc: `${spec.proxy.container}:${PROXY_PORTS.stagingGrpc}`,
  };
}

/** The idle slot's checks, each run by `probe` inside the stack's network. */
export function stagingChecks(probe: Pick<NetworkProbe, 'http' | 'grpcHealth'>, spec: Pick<ReleaseSpec, 'proxy'>, releaseId: string): HealthCheck[] {
  const targets = stagingTargets(spec);
  const readyz = (name: string, url: string): HealthCheck => ({
    name: `${name} (${url})`,
    run: async (timeoutMs) => readyzOutcome(await probe.http(url, timeoutMs), releaseId),
    close() {},
  });
  return [
    readyz('web-ui /readyz', targets.webUiReadyz),
    readyz('sensor-api /readyz', targets.sensorApiReadyz),
    {
      name: `sensor-api gRPC health (${targets.grpc})`,
      run: async (timeoutMs) => grpcHealthOutcome(await probe.grpcHealth(targets.grpc, timeoutMs)),
      close() {},
    },
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

export interface StagingGateReport extends GateReport {
  /** How long the probe container took to start (before the first round). */
  probeStartMs: number;
}

/**
 * The health gate of a release: the staged `slot` must answer every check, reporting this
 * release, `spec.gate.successes` times in a row within `spec.gate.timeoutMs`. The probes run in
 * a container of the release image on the stack's network (through `engine`, local or ssh://),
 * which is removed afterwards whatever the outcome.
 */
export async function runStagingGate(
  engine: DockerEngine,
  spec: ReleaseSpec,
  slot: Slot,
  options: NetworkProbeOptions = {},
): Promise<StagingGateReport> {
  const releaseId = spec.image.releaseId;
  const started = performance.now();
  const probe = await NetworkProbe.start(engine, spec, options);
  const probeStartMs = Math.round(performance.now() - started);
  try {
    const report = await runHealthGate(stagingChecks(probe, spec, releaseId), {
      ...spec.gate,
      subject: `The ${slot} slot (release ${releaseId})`,
      fix: `${slotContainers(spec.prefix, slot).map((c) => `docker logs ${c.name}`).join('; ')} (the live slot keeps serving; fix the cause and release again)`,
    });
    return { ...report, probeStartMs };
  } finally {
    await probe.close();
  }
}
