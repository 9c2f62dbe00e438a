import type { DockerEngine } from '../engine.js';
import { PROXY_PORTS, TK_PATHS } from '../proxy/constants.js';
import type { ReleaseSpec } from '../spec.js';
import { endpointUrl, grpcHealthOutcome, readyzOutcome, type HealthCheck } from '../../../components/health-gate/checks.js';
import type { NetworkProbe } from './network-probe.js';

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
