import { setTimeout as sleep } from 'node:timers/promises';
import { DeployError } from '../../../components/errors.js';
import type { DockerEngine } from '../engine.js';
import type { PublicTls } from '../spec.js';
import type { CaddyConfig, CaddyRoute, CaddyServer } from './caddy-json.js';
import { PROXY_PORTS, PROXY_SERVERS } from './constants.js';

/**
 * The root certificate of Caddy's local CA (the `internal` issuer), in its /data volume. Caddy
 * creates it once and keeps it there, so clients that trust it keep trusting every certificate
 * Caddy issues, across releases and replacements of the container.
 */
export const CADDY_LOCAL_ROOT_PATH = '/data/caddy/pki/authorities/local/root.crt';

/** The server that sends plain HTTP to HTTPS (and answers ACME's HTTP challenges, which Caddy does before any route). */
export const PUBLIC_REDIRECT_SERVER = 'tk-public-redirect';

/** Strict-Transport-Security: browsers use HTTPS for the domain for a year after one visit. */
export const HSTS_HEADER = 'max-age=31536000';

/** The names Caddy holds certificates for: the domain, and the gRPC domain when it differs. */
export function certificateNames(tls: PublicTls): string[] {
  return [...new Set([tls.domain, tls.grpcDomain])];
}

/**
 * TLS on a listener: certificates by SNI from the ones the tls app manages. HTTP/3 stays off:
 * it needs UDP 443, which is not published.
 */
function terminateTls(server: CaddyServer, port: number): CaddyServer {
  return { ...server, listen: [`:${port}`], protocols: ['h1', 'h2'], tls_connection_policies: [{}] };
}

/**
 * A route that matches everything, sets HSTS and goes on to the next route. Deferred: applied
 * when the response is written, so it replaces the web UI's own HSTS (it sends one behind a TLS
 * proxy) instead of doubling it, and also covers Caddy's own answers (503 no live release).
 */
function hstsRoute(): CaddyRoute {
  return { handle: [{ handler: 'headers', response: { set: { 'Strict-Transport-Security': [HSTS_HEADER] }, deferred: true } }] };
}

function redirectServer(tls: PublicTls): CaddyServer {
  const port = tls.httpsPort === 443 ? '' : `:${tls.httpsPort}`;
  return {
    listen: [`:${PROXY_PORTS.publicHttp}`],
    automatic_https: { disable: true },
    routes: [
      {
        handle: [{ handler: 'static_response', status_code: 308, headers: { Location: [`https://{http.request.host}${port}{http.request.uri}`] } }],
        terminal: true,
      },
    ],
  };
}

/**
 * Certificates for the stack's names: from Let's Encrypt over ACME (HTTP-01 on port 80 or
 * TLS-ALPN-01 on 443), or from Caddy's local CA, whose root is not installed anywhere (clients
 * that must trust it read it from CADDY_LOCAL_ROOT_PATH). Kept in Caddy's /data volume and
 * renewed by Caddy; a config load or a new container reuses them.
 */
function tlsApps(tls: PublicTls): Pick<CaddyConfig['apps'], 'tls' | 'pki'> {
  const names = certificateNames(tls);
  const issuer = tls.issuer === 'acme' ? { module: 'acme', ...(tls.acmeEmail ? { email: tls.acmeEmail } : {}) } : { module: 'internal' };
  return {
    tls: { certificates: { automate: names }, automation: { policies: [{ subjects: names, issuers: [issuer] }] } },
    ...(tls.issuer === 'internal' ? { pki: { certificate_authorities: { local: { install_trust: false } } } } : {}),
  };
}

/**
 * The config of a stack with a domain, from the plain one: the public HTTP server moves to the
 * HTTPS port with TLS and HSTS, a redirect server takes the HTTP port, and public gRPC speaks
 * TLS on its port. Routes, routing markers and the staging listeners are unchanged: the staging
 * listeners are reached only inside the stack network by the health gate, which checks the new
 * slot, not the certificate (the same for both slots); the public verification after a switch
 * goes through TLS with the real names. Automatic HTTPS stays off on every server: the
 * certificates, redirect and listeners are all written out here.
 */
export function applyPublicTls(config: CaddyConfig, tls: PublicTls): CaddyConfig {
  const servers = config.apps.http.servers;
  const publicHttp = servers[PROXY_SERVERS.publicHttp];
  const publicGrpc = servers[PROXY_SERVERS.publicGrpc];
  if (!publicHttp || !publicGrpc) throw new Error('applyPublicTls: the config has no public servers');
  return {
    ...config,
    apps: {
      ...config.apps,
      http: {
        ...config.apps.http,
        servers: {
          ...servers,
          [PROXY_SERVERS.publicHttp]: terminateTls({ ...publicHttp, routes: [hstsRoute(), ...publicHttp.routes] }, PROXY_PORTS.publicHttps),
          [PUBLIC_REDIRECT_SERVER]: redirectServer(tls),
          [PROXY_SERVERS.publicGrpc]: terminateTls(publicGrpc, PROXY_PORTS.publicGrpc),
        },
      },
      ...tlsApps(tls),
    },
  };
}

/**
 * The PEM root of Caddy's local CA, read from inside the Caddy container. Caddy writes it when it
 * loads a config with the internal issuer; a container that just started may take a moment.
 */
export async function readLocalCaRoot(engine: DockerEngine, container: string, options: { timeoutMs?: number } = {}): Promise<string> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const result = await engine.exec(['exec', container, 'cat', CADDY_LOCAL_ROOT_PATH]);
    if (result.exitCode === 0 && result.stdout.includes('BEGIN CERTIFICATE')) return result.stdout;
    if (Date.now() >= deadline) {
      throw new DeployError(
        `Caddy (${container}) has no local CA root at ${CADDY_LOCAL_ROOT_PATH}, so the public endpoints (docker.tls internal) cannot be verified: ${result.stderr.trim() || 'not a certificate'}`,
        `docker logs ${container} (look for "pki" and "tls" lines)`,
      );
    }
    await sleep(250);
  }
}
