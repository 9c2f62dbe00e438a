import { APP_PORTS, SLOTS, type AppService, type PublicTls, type Slot } from '../spec.js';
import { slotContainerName } from '../slots/names.js';
import { CADDY_ADMIN_ADDRESS, PROXY_PORTS, PROXY_SERVERS, ROUTING_DIR, TK_PATHS } from './constants.js';
import { applyPublicTls } from './public-tls.js';

import type { CaddyConfig, CaddyHandler, CaddyMatcherSet, CaddyRoute, CaddyServer } from './caddy-json.js';

export type { CaddyConfig, CaddyHandler, CaddyMatcherSet, CaddyRoute, CaddyServer } from './caddy-json.js';

export interface CaddyConfigInput {
  /** Prefix of the stack's containers: upstreams are `<prefix>-<slot>-<service>:<port>`. */
  prefix: string;
  /**
   * How long a config load lets the previous config's connections finish before closing them.
   * Usually the release's drain timeout. Switches do not load a config; upgrades of it do.
   */
  graceMs?: number;
  /** HTTPS and gRPC over TLS on the public listeners (a stack with a domain); absent: plain. */
  tls?: PublicTls;
}

export type RoutingMarker = `live-${Slot}` | `staging-${Slot}`;

/** Matches while the routing marker exists (Caddy stats it on every request). */
function whileMarker(marker: RoutingMarker, extra: CaddyMatcherSet = {}): CaddyMatcherSet[] {
  return [{ file: { root: ROUTING_DIR, try_files: [`/${marker}`] }, ...extra }];
}

/**
 * The order in which a listener looks for the slots' markers: each slot, then the first one
 * again. A switch renames one marker (live-blue to live-green, or back), but Caddy stats the
 * markers one after the other: a request that looked for live-blue just before a rename to
 * live-blue and for live-green just after it would find neither and get a 503. Looking for
 * the first slot once more closes that gap in both directions: whichever way the rename goes,
 * a request that missed the old name finds the new one by its last look.
 */
export const MARKER_LOOKUP_ORDER: readonly Slot[] = [...SLOTS, SLOTS[0]];

function upstream(prefix: string, slot: Slot, service: AppService, port: number): string {
  return `${slotContainerName(prefix, slot, service)}:${port}`;
}

type UpstreamTransport = 'http1' | 'h2c' | 'http1-no-keepalive';

const TRANSPORTS: Record<UpstreamTransport, Record<string, unknown> | undefined> = {
  http1: undefined,
  h2c: { protocol: 'http', versions: ['h2c'] },
  // The sensor API's health port gets a few requests per release: pooled connections there
  // would only hold its HTTP server open when the slot drains.
  'http1-no-keepalive': { protocol: 'http', keep_alive: { enabled: false } },
};

function reverseProxy(dial: string, transport: UpstreamTransport = 'http1'): CaddyHandler {
  const config = TRANSPORTS[transport];
  return { handler: 'reverse_proxy', upstreams: [{ dial }], ...(config ? { transport: config } : {}) };
}

function stripPrefix(prefix: string): CaddyHandler {
  return { handler: 'rewrite', strip_path_prefix: prefix };
}

function respond(status: number, body: string): CaddyRoute {
  return {
    handle: [{ handler: 'static_response', status_code: status, headers: { 'Content-Type': ['text/plain; charset=utf-8'] }, body: `${body}\n` }],
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

function publicHttpRoutes(prefix: string): CaddyRoute[] {
  // Only the sensor API's health endpoints are public (release verification); its metrics are not.
  const sensorApiHealth = ['readyz', 'healthz'].map((path) => `${TK_PATHS.sensorApi}/${path}`);
  return [
    ...MARKER_LOOKUP_ORDER.flatMap((slot): CaddyRoute[] => [
      {
        match: whileMarker(`live-${slot}`, { path: sensorApiHealth }),
        handle: [stripPrefix(TK_PATHS.sensorApi), reverseProxy(upstream(prefix, slot, 'sensor-api', APP_PORTS.sensorApiHttp), 'http1-no-keepalive')],
        terminal: true,
      },
      { match: whileMarker(`live-${slot}`), handle: [reverseProxy(upstream(prefix, slot, 'web-ui', APP_PORTS.webUi))], terminal: true },
    ]),
    respond(503, 'no live release'),
  ];
}

function grpcRoutes(prefix: string, role: 'live' | 'staging'): CaddyRoute[] {
  return [
    ...MARKER_LOOKUP_ORDER.map((slot): CaddyRoute => ({
      match: whileMarker(`${role}-${slot}`),
      handle: [reverseProxy(upstream(prefix, slot, 'sensor-api', APP_PORTS.sensorApiGrpc), 'h2c')],
      terminal: true,
    })),
    respond(503, role === 'live' ? 'no live release' : 'no staging slot'),
  ];
}

function stagingHttpRoutes(prefix: string): CaddyRoute[] {
  return [
    ...MARKER_LOOKUP_ORDER.flatMap((slot): CaddyRoute[] => [
      {
        match: whileMarker(`staging-${slot}`, { path: [`${TK_PATHS.webUi}/*`] }),
        handle: [stripPrefix(TK_PATHS.webUi), reverseProxy(upstream(prefix, slot, 'web-ui', APP_PORTS.webUi))],
        terminal: true,
      },
      {
        match: whileMarker(`staging-${slot}`, { path: [`${TK_PATHS.sensorApi}/*`] }),
        handle: [stripPrefix(TK_PATHS.sensorApi), reverseProxy(upstream(prefix, slot, 'sensor-api', APP_PORTS.sensorApiHttp), 'http1-no-keepalive')],
        terminal: true,
      },
    ]),
    respond(503, 'no staging slot (or not a staging path)'),
  ];
}

/**
 * Caddy's whole JSON config, generated from typed data: for each listener, one route per slot
 * (MARKER_LOOKUP_ORDER), taken while that slot's routing marker exists, and a 503 when none does. Public listeners
 * (HTTP with the sensor API's health under /__tk/sensor-api/, and gRPC over h2c) follow the
 * `live-<slot>` marker together; the staging listeners follow `staging-<slot>` through the same
 * upstream addresses. The admin API stays on the container's loopback. The config depends on
 * the stack only, so releases never reload it (see ROUTING_DIR). With `tls`, the public
 * listeners terminate TLS (applyPublicTls).
 */
export function renderCaddyConfig(input: CaddyConfigInput): CaddyConfig {
  const { prefix } = input;
  const config: CaddyConfig = {
    admin: { listen: CADDY_ADMIN_ADDRESS },
    apps: {
      http: {
        ...(input.graceMs !== undefined ? { grace_period: `${input.graceMs}ms` } : {}),
        servers: {
          [PROXY_SERVERS.publicHttp]: httpServer(PROXY_PORTS.publicHttp, publicHttpRoutes(prefix)),
          [PROXY_SERVERS.publicGrpc]: grpcServer(PROXY_PORTS.publicGrpc, grpcRoutes(prefix, 'live')),
          [PROXY_SERVERS.stagingHttp]: httpServer(PROXY_PORTS.stagingHttp, stagingHttpRoutes(prefix)),
          [PROXY_SERVERS.stagingGrpc]: grpcServer(PROXY_PORTS.stagingGrpc, grpcRoutes(prefix, 'staging')),
        },
      },
    },
  };
  return input.tls ? applyPublicTls(config, input.tls) : config;
}

/**
 * The config the Caddy container starts with (uploaded to CADDY_BOOTSTRAP_PATH, run with
 * `--resume` so the last loaded config survives a restart). It is the release config itself:
 * with no routing marker yet, the public listeners answer 503 "no live release".
 */
export function bootstrapCaddyConfig(input: CaddyConfigInput): CaddyConfig {
  return renderCaddyConfig(input);
}

/** The command the Caddy container runs: the bootstrap config, or the last loaded one if any. */
export function caddyRunCommand(configPath: string): string[] {
  return ['caddy', 'run', '--config', configPath, '--resume'];
}
