/** The parts of Caddy's JSON config the toolkit writes (https://caddyserver.com/docs/json/). */
export type CaddyHandler = { handler: string } & Record<string, unknown>;
export type CaddyMatcherSet = Record<string, unknown>;
export interface CaddyRoute {
  match?: CaddyMatcherSet[];
  handle: CaddyHandler[];
  terminal?: boolean;
}
export interface CaddyServer {
  listen: string[];
  protocols?: string[];
  automatic_https?: { disable: boolean };
  tls_connection_policies?: Record<string, unknown>[];
  routes: CaddyRoute[];
}
export interface CaddyConfig {
  admin: { listen: string };
  apps: {
    http: { grace_period?: string; servers: Record<string, CaddyServer> };
    /** Certificate management, with a domain (see public-tls.ts). */
    tls?: Record<string, unknown>;
    /** Caddy's local CA, with the internal issuer. */
    pki?: Record<string, unknown>;
  };
}
