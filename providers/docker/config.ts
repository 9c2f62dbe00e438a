import { isIP } from 'node:net';
import { z } from 'zod';
import { TLS_ISSUERS } from './spec.js';
import type { ConfigExamples, ConfigProblem } from '../config-errors.js';
import { configRemoveCommand, configSetCommand, validFields } from '../config-errors.js';

/** Defaults of the docker section, named so the schema, the docs and the tests agree. */
export const DEFAULT_BIND_ADDRESS = '127.0.0.1';
export const DEFAULT_PORTS = { http: 8080, grpc: 50051 } as const;
/** With docker.domain: the standard web ports, where browsers and ACME (HTTP-01, TLS-ALPN-01) look. */
export const DEFAULT_DOMAIN_PORTS = { http: 80, https: 443 } as const;
/** The official public images; tests and offline machines point these at tk-offline/* stand-ins. */
export const DEFAULT_IMAGES = {
  postgres: 'postgres:16',
  caddy: 'caddy:2',
  appBuildBase: 'node:20-bookworm',
  appRuntimeBase: 'node:20-bookworm-slim',
} as const;

export const DOCKER_HOST_SCHEMES = ['unix', 'tcp', 'ssh'] as const;

/** Returns what is wrong with a DOCKER_HOST value, or undefined when the docker CLI accepts it. */
export function dockerHostProblem(value: string): string | undefined {
  const expected = 'must be unix:///path/to/docker.sock, tcp://host:port or ssh://user@host';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return expected;
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (!(DOCKER_HOST_SCHEMES as readonly string[]).includes(scheme)) return `${expected} (scheme ${scheme}:// is not supported)`;
  if (scheme === 'unix') return url.host === '' && url.pathname.length > 1 ? undefined : `${expected} (a unix socket needs an absolute path after unix://)`;
  if (url.hostname === '') return `${expected} (no host)`;
  if (url.pathname !== '' && url.pathname !== '/') return `${expected} (no path after the host)`;
  if (url.password !== '') return `${expected} (no password: ssh uses your keys or agent)`;
  if (scheme === 'tcp' && url.username !== '') return `${expected} (tcp:// takes no user)`;
  return undefined;
}

// Docker's own reference grammar, simplified: [registry[:port]/]path[:tag][@sha256:digest].
const IMAGE_REFERENCE =
  /^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

const port = (what: string) =>
  z.int({ error: (issue) => (issue.input === undefined ? undefined : `must be a whole number 1-65535 (${what})`) }).min(1, { error: 'must be 1-65535' }).max(65535, { error: 'must be 1-65535' });

const imageReference = z.string().regex(IMAGE_REFERENCE, { error: 'must be an image reference like postgres:16 or registry.example.com/team/postgres:16' });

// ports.http has no fixed default: 8080 without a domain, 80 with one (see withDomainDefaults).
const portsShape = {
  http: port('host port of the public HTTP listener').optional(),
  https: port('host port of the public HTTPS listener, with docker.domain').default(DEFAULT_DOMAIN_PORTS.https),
  grpc: port('host port of the public gRPC listener').default(DEFAULT_PORTS.grpc),
};

// A DNS name as certificates and SNI use it: lowercase labels, at least two, no scheme, port or path.
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const dnsName = z.string().regex(DNS_NAME, { error: 'must be a DNS name like tk.example.com in lowercase (no scheme, port or path)' });
const email = z.string().regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, { error: 'must be an email address like ops@example.com' });
const tlsIssuer = z.enum(TLS_ISSUERS, { error: (issue) => (issue.input === undefined ? undefined : `must be one of ${TLS_ISSUERS.join(', ')}`) });

/**
 * The docker section of the stack config (trapperkeeper:docker).
 *
 * host: DOCKER_HOST of the engine: unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host. @default the environment's DOCKER_HOST, else the local socket
 * bindAddress: host address the public ports are published on. @default 127.0.0.1
 * ports.http: host port of the public HTTP listener (web UI; with a domain, the redirect to HTTPS). @default 8080, or 80 with docker.domain
 * ports.https: host port of the public HTTPS listener (web UI), with docker.domain. @default 443
 * ports.grpc: host port of the public gRPC listener (sensor API; over TLS with a domain). @default 50051
 * domain: DNS name of the stack (an A/AAAA record pointing at the host): Caddy gets a certificate for it and serves the web UI on https://<domain>, HTTP redirected, HSTS, and gRPC over TLS. @default unset: plain HTTP and gRPC
 * grpcDomain: DNS name sensors use for gRPC over TLS, when not docker.domain. @default docker.domain
 * acmeEmail: contact of the ACME (Let's Encrypt) account, for notices about the certificates. @default unset
 * tls: who signs the certificates: acme (Let's Encrypt, publicly trusted) or internal (Caddy's local CA, for tests and private networks; clients must trust its root). @default acme
 * images.postgres: PostgreSQL image. @default postgres:16
 * images.caddy: Caddy image (the proxy). @default caddy:2
 * images.appBuildBase: BUILD_IMAGE of app/Dockerfile. @default node:20-bookworm
 * images.appRuntimeBase: RUNTIME_IMAGE of app/Dockerfile. @default node:20-bookworm-slim
 */
export const dockerSectionSchema = z
  .strictObject({
  host: z
    .string()
    .optional()
    .superRefine((value, ctx) => {
      const problem = value === undefined ? undefined : dockerHostProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  bindAddress: z
    .string()
    .refine((value) => isIP(value) !== 0, { error: 'must be an IP address such as 127.0.0.1 (this host only) or 0.0.0.0 (every interface)' })
    .default(DEFAULT_BIND_ADDRESS),
  ports: z.strictObject(portsShape).prefault({}),
  domain: dnsName.optional(),
  grpcDomain: dnsName.optional(),
  acmeEmail: email.optional(),
  tls: tlsIssuer.optional(),
  images: z
    .strictObject({
      postgres: imageReference.default(DEFAULT_IMAGES.postgres),
      caddy: imageReference.default(DEFAULT_IMAGES.caddy),
      appBuildBase: imageReference.default(DEFAULT_IMAGES.appBuildBase),
      appRuntimeBase: imageReference.default(DEFAULT_IMAGES.appRuntimeBase),
    })
    .prefault({}),
  })
  .transform(withDomainDefaults);

/** The defaults that depend on docker.domain: the HTTP port, and with a domain the gRPC name and the issuer. */
function withDomainDefaults<T extends { ports: { http?: number | undefined }; domain?: string | undefined; grpcDomain?: string | undefined; tls?: (typeof TLS_ISSUERS)[number] | undefined }>(section: T) {
  const { domain } = section;
  return {
    ...section,
    ports: { ...section.ports, http: section.ports.http ?? (domain ? DEFAULT_DOMAIN_PORTS.http : DEFAULT_PORTS.http) },
    ...(domain ? { grpcDomain: section.grpcDomain ?? domain, tls: section.tls ?? ('acme' as const) } : {}),
  };
}

export type DockerSection = z.output<typeof dockerSectionSchema>;

/** Example values of every docker key, for the fix of a problem with it. */
export const DOCKER_CONFIG_EXAMPLES: ConfigExamples = {
  'docker.host': 'ssh://deploy@tk.example.com',
  'docker.bindAddress': DEFAULT_BIND_ADDRESS,
  'docker.ports.http': String(DEFAULT_PORTS.http),
  'docker.ports.https': String(DEFAULT_DOMAIN_PORTS.https),
  'docker.ports.grpc': String(DEFAULT_PORTS.grpc),
  'docker.domain': 'tk.example.com',
  'docker.grpcDomain': 'grpc.tk.example.com',
  'docker.acmeEmail': 'ops@example.com',
  'docker.tls': 'acme',
  'docker.images.postgres': DEFAULT_IMAGES.postgres,
  'docker.images.caddy': DEFAULT_IMAGES.caddy,
  'docker.images.appBuildBase': DEFAULT_IMAGES.appBuildBase,
  'docker.images.appRuntimeBase': DEFAULT_IMAGES.appRuntimeBase,
};

/** Every host port Caddy publishes must be its own: Docker would refuse the second binding. */
export function ensureDistinctPorts(ports: Partial<DockerSection['ports']>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Map<number, string>();
  // Suggested ports count as taken, so two fixes never suggest the same port.
  const taken = new Set(Object.values(ports));
  for (const [name, value] of Object.entries(ports)) {
    const first = seen.get(value);
    if (first === undefined) {
      seen.set(value, name);
      continue;
    }
    const free = firstFreePort(taken, value);
    taken.add(free);
    problems.push({
      path: `docker.ports.${name}`,
      problem: `is ${value}, the same host port as docker.ports.${first}`,
      fix: configSetCommand(`docker.ports.${name}`, String(free)),
    });
  }
  return problems;
}

function firstFreePort(taken: ReadonlySet<number>, from: number): number {
  let candidate = from + 1;
  while (taken.has(candidate) || candidate > 65535) candidate = candidate > 65535 ? 1024 : candidate + 1;
  return candidate;
}

/** Every Docker object of a stack is named `tk-<stack>-...`, and the app image `tk-<stack>/...`. */
export const STACK_NAME_PATTERN = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

export function ensureStackNamesDockerObjects(stack: string): ConfigProblem[] {
  if (STACK_NAME_PATTERN.test(stack)) return [];
  const suggestion = stack.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+|[._-]+$/g, '') || 'dev';
  return [
    {
      path: '',
      subject: `stack '${stack}'`,
      problem: 'names Docker objects and images, so it must be lowercase letters and digits separated by single ".", "_" or "-"',
      fix: `pulumi stack rename ${suggestion}`,
    },
  ];
}

/**
 * The named cross-field checks of the docker section, on its raw value: each runs on the fields
 * that are valid, so a wrong port does not hide two others that collide.
 */
export function checkDockerSection(raw: unknown, stack: string, rawApp?: unknown): ConfigProblem[] {
  const { domain } = validFields({ shape: { domain: dnsName.optional() } }, raw);
  const { http, https, grpc } = validFields({ shape: portsShape }, rawField(raw, 'ports'));
  // Only the ports that are published: HTTPS only with a domain.
  const ports = {
    http: http ?? (domain ? DEFAULT_DOMAIN_PORTS.http : DEFAULT_PORTS.http),
    ...(domain && https !== undefined ? { https } : {}),
    ...(grpc !== undefined ? { grpc } : {}),
  };
  return [
    ...ensureDistinctPorts(ports),
    ...ensureDomainKeysNeedDomain(raw),
    ...ensurePublicUrlOrDomain(domain, rawField(rawApp, 'publicUrl')),
    ...ensureStackNamesDockerObjects(stack),
  ];
}

/**
 * With a domain the public URL is https://<domain>, and the release verifies it by that name;
 * app.publicUrl is for something else in front (which then terminates TLS itself).
 */
export function ensurePublicUrlOrDomain(domain: string | undefined, publicUrl: unknown): ConfigProblem[] {
  if (domain === undefined || publicUrl === undefined) return [];
  return [
    {
      path: 'app.publicUrl',
      problem: `is set, but docker.domain makes the public URL https://${domain}; set one of them`,
      fix: `${configRemoveCommand('app.publicUrl')} (or ${configRemoveCommand('docker.domain')} when a proxy in front terminates TLS)`,
    },
  ];
}

/** Keys that only mean something with a domain; set without one they would be silently ignored. */
export function ensureDomainKeysNeedDomain(raw: unknown): ConfigProblem[] {
  if (rawField(raw, 'domain') !== undefined) {
    const acmeEmail = rawField(raw, 'acmeEmail');
    if (acmeEmail !== undefined && rawField(raw, 'tls') === 'internal') {
      return [{ path: 'docker.acmeEmail', problem: 'is only used with docker.tls acme (Let\'s Encrypt), not internal', fix: configRemoveCommand('docker.acmeEmail') }];
    }
    return [];
  }
  return (['grpcDomain', 'acmeEmail', 'tls'] as const)
    .filter((key) => rawField(raw, key) !== undefined)
    .map((key) => ({
      path: `docker.${key}`,
      problem: 'only applies with docker.domain, which is not set',
      fix: `${configSetCommand('docker.domain', DOCKER_CONFIG_EXAMPLES['docker.domain'] ?? 'tk.example.com')} (or ${configRemoveCommand(`docker.${key}`)})`,
    }));
}

function rawField(raw: unknown, key: string): unknown {
  return raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>)[key] : undefined;
}
