import { APP_PORTS, type AppService, type Slot } from '../release/spec.js';
import { slotContainerName } from '../slots/names.js';
import {
  CADDY_ADMIN_ADDRESS,
  PROXY_PORTS,
  PROXY_SERVERS,
  TK_PATHS,
  type ProxyRouting,
  type RoutedRelease,
} from './constants.js';

/** The parts of Caddy's JSON config the toolkit writes (https://caddyserver.com/docs/json/). */
export type CaddyHandler = { handler: string } & Record<string, unknown>;
export interface CaddyRoute {
  match?: Record<string, unknown>[];
  handle: CaddyHandler[];
  terminal?: boolean;
}
export interface CaddyServer {
  listen: string[];
  protocols?: string[];
  automatic_https?: { disable: boolean };
  routes: CaddyRoute[];
}
export interface CaddyConfig {
  admin: { listen: string };
  apps: { http: { grace_period?: string; servers: Record<string, CaddyServer> } };
}

export interface CaddyConfigInput extends ProxyRouting {
  /** Prefix of the stack's containers: upstreams are `<prefix>-<slot>-<service>:<port>`. */
  prefix: string;
  /**
   * How long a config load lets the previous config's connections finish (in-flight requests
   * of the old slot) before closing them. Usually the release's drain timeout.
   */
  graceMs?: number;
}

/** Handler `vars` keys recording which release a server routes to (read back by readProxyState). */
export const ROUTING_VARS = { slot: 'tk.slot', release: 'tk.release' } as const;

function upstream(prefix: string, slot: Slot, service: AppService, port: number): string {
  return `${slotContainerName(prefix, slot, service)}:${port}`;
}

function reverseProxy(dial: string, h2c = false): CaddyHandler {
  return {
    handler: 'reverse_proxy',
    upstreams: [{ dial }],
    ...(h2c ? { transport: { protocol: 'http', versions: ['h2c'] } } : {}),
  };
}

function stripPrefix(prefix: string): CaddyHandler {
  return { handler: 'rewrite', strip_path_prefix: prefix };
}

function routingVars(target: RoutedRelease): CaddyRoute {
  return { handle: [{ handler: 'vars', [ROUTING_VARS.slot]: target.slot, [ROUTING_VARS.release]: target.releaseId }] };
}

function unavailable(body: string): CaddyRoute {
  return {
    handle: [{ handler: 'static_response', status_code: 503, headers: { 'Content-Type': ['text/plain; charset=utf-8'] }, body: `${body}\n` }],
    terminal: true,
  };
}

function httpServer(port: number, routes: CaddyRoute[]): CaddyServer {
  return { listen: [`:${port}`], automatic_https: { disable: true }, routes };
}

/** gRPC listeners speak cleartext HTTP/2 (h2c) to clients and to the sensor API. */
function grpcServer(port: number, routes: CaddyRoute[]): CaddyServer {
  return { listen: [`:${port}`], protocols: ['h1', 'h2c'], automatic_https: { disable: true }, routes };
}

function publicHttpRoutes(prefix: string, live: RoutedRelease | null): CaddyRoute[] {
  if (!live) return [unavailable('no live release')];
  // Only the sensor API's health endpoints are public (release verification); its metrics are not.
  const sensorApiHealth = ['readyz', 'healthz'].map((path) => `${TK_PATHS.sensorApi}/${path}`);
  return [
    routingVars(live),
    {
      match: [{ path: sensorApiHealth }],
      handle: [stripPrefix(TK_PATHS.sensorApi), reverseProxy(upstream(prefix, live.slot, 'sensor-api', APP_PORTS.sensorApiHttp))],
      terminal: true,
    },
    { handle: [reverseProxy(upstream(prefix, live.slot, 'web-ui', APP_PORTS.webUi))], terminal: true },
  ];
}

function grpcRoutes(prefix: string, target: RoutedRelease | null, idle: string): CaddyRoute[] {
  if (!target) return [unavailable(idle)];
  return [
    routingVars(target),
    { handle: [reverseProxy(upstream(prefix, target.slot, 'sensor-api', APP_PORTS.sensorApiGrpc), true)], terminal: true },
  ];
}

function stagingHttpRoutes(prefix: string, staging: RoutedRelease | null): CaddyRoute[] {
  if (!staging) return [unavailable('no staging slot')];
  return [
    routingVars(staging),
    {
      match: [{ path: [`${TK_PATHS.webUi}/*`] }],
      handle: [stripPrefix(TK_PATHS.webUi), reverseProxy(upstream(prefix, staging.slot, 'web-ui', APP_PORTS.webUi))],
      terminal: true,
    },
    {
      match: [{ path: [`${TK_PATHS.sensorApi}/*`] }],
      handle: [stripPrefix(TK_PATHS.sensorApi), reverseProxy(upstream(prefix, staging.slot, 'sensor-api', APP_PORTS.sensorApiHttp))],
      terminal: true,
    },
    {
      handle: [{ handler: 'static_response', status_code: 404, body: `staging paths: ${TK_PATHS.webUi}/..., ${TK_PATHS.sensorApi}/...\n` }],
      terminal: true,
    },
  ];
}

/**
 * Caddy's whole JSON config for a routing, generated from typed data and loaded in one piece: the
 * public listeners (HTTP and gRPC) go to the live slot together, the staging listeners to the
 * idle slot through the same upstream addresses, and the admin API stays on the container's
 * loopback. With no live release the public listeners answer 503 "no live release".
 */
export function renderCaddyConfig(input: CaddyConfigInput): CaddyConfig {
  const { prefix, live, staging } = input;
  return {
    admin: { listen: CADDY_ADMIN_ADDRESS },
    apps: {
      http: {
        ...(input.graceMs !== undefined ? { grace_period: `${input.graceMs}ms` } : {}),
        servers: {
          [PROXY_SERVERS.publicHttp]: httpServer(PROXY_PORTS.publicHttp, publicHttpRoutes(prefix, live)),
          [PROXY_SERVERS.publicGrpc]: grpcServer(PROXY_PORTS.publicGrpc, grpcRoutes(prefix, live, 'no live release')),
          [PROXY_SERVERS.stagingHttp]: httpServer(PROXY_PORTS.stagingHttp, stagingHttpRoutes(prefix, staging)),
          [PROXY_SERVERS.stagingGrpc]: grpcServer(PROXY_PORTS.stagingGrpc, grpcRoutes(prefix, staging, 'no staging slot')),
        },
      },
    },
  };
}

/**
 * The config the Caddy container starts with before any release (uploaded to
 * CADDY_BOOTSTRAP_PATH, run with `--resume` so the last loaded config survives a restart).
 */
export function bootstrapCaddyConfig(input: { prefix: string; graceMs?: number }): CaddyConfig {
  return renderCaddyConfig({ ...input, live: null, staging: null });
}

/** The command the Caddy container runs: the bootstrap config, or the last loaded one if any. */
export function caddyRunCommand(configPath: string): string[] {
  return ['caddy', 'run', '--config', configPath, '--resume'];
}
