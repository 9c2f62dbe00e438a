import type { Slot } from '../spec.js';

/** Ports Caddy listens on inside its container; the Pulumi side publishes them. */
export const PROXY_PORTS = {
  /**
   * Users' HTTP: the live web UI, plus the live sensor API's health under /__tk/sensor-api/.
   * With a domain it only redirects to HTTPS (and answers ACME's HTTP challenges).
   */
  publicHttp: 80,
  /** With a domain: users' HTTPS, serving what publicHttp serves without one. */
  publicHttps: 443,
  /** Users' gRPC (h2c; gRPC over TLS with a domain): the live sensor API. */
  publicGrpc: 50051,
  /** The idle slot's web UI and sensor API HTTP, for the health gate. Never public. */
  stagingHttp: 8081,
  /** The idle slot's gRPC (h2c), for the health gate. Never public. */
  stagingGrpc: 50052,
} as const;

/** Caddy's admin API, bound to the container's loopback: unreachable from the network and the host. */
export const CADDY_ADMIN_ADDRESS = 'localhost:2019';

/**
 * Where Caddy writes every config it loads (`$XDG_CONFIG_HOME/caddy/autosave.json`, XDG_CONFIG_HOME
 * being /config in the official image and our stand-in). `caddy run --resume` starts from it.
 */
export const CADDY_AUTOSAVE_PATH = '/config/caddy/autosave.json';

/**
 * Where the routing markers live inside the Caddy container (on its /config volume, so they
 * survive a restart). The generated config routes every request by which markers exist:
 * `live-<slot>` picks the slot of the public listeners, `staging-<slot>` the slot of the staging
 * listeners, and `release-<slot>` holds the release id that slot runs. A switch is one atomic
 * rename of the live marker: no config reload, so no client connection is closed or left
 * pinned to an old config (Caddy 2.6 keeps h2c connections on the config they were opened with).
 */
export const ROUTING_DIR = '/config/tk-routing';

/** Where the Caddy container's bootstrap config is uploaded (`caddy run --config ... --resume`). */
export const CADDY_BOOTSTRAP_PATH = '/etc/caddy/bootstrap.json';

/** Names of Caddy's servers in the generated config. */
export const PROXY_SERVERS = {
  publicHttp: 'tk-public-http',
  publicGrpc: 'tk-public-grpc',
  stagingHttp: 'tk-staging-http',
  stagingGrpc: 'tk-staging-grpc',
} as const;

/** Path prefixes (stripped before proxying) that reach a service's HTTP port through Caddy. */
export const TK_PATHS = {
  sensorApi: '/__tk/sensor-api',
  webUi: '/__tk/web-ui',
} as const;

/** Caddy serves the live slot on the public listeners and the idle one on the staging ones. */
export type { ProxyRouting, RoutedRelease } from '../../../components/release/ports.js';
