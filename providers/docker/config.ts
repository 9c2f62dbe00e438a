import { isIP } from 'node:net';
import { z } from 'zod';
import type { ConfigExamples, ConfigProblem } from '../config-errors.js';
import { configSetCommand, validFields } from '../config-errors.js';

/** Defaults of the docker section, named so the schema, the docs and the tests agree. */
export const DEFAULT_BIND_ADDRESS = '127.0.0.1';
export const DEFAULT_PORTS = { http: 8080, grpc: 50051 } as const;
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

const portsShape = {
  http: port('host port of the public HTTP listener').default(DEFAULT_PORTS.http),
  grpc: port('host port of the public gRPC listener').default(DEFAULT_PORTS.grpc),
};

/**
 * The docker section of the stack config (trapperkeeper:docker).
 *
 * host: DOCKER_HOST of the engine: unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host. @default the environment's DOCKER_HOST, else the local socket
 * bindAddress: host address the public ports are published on. @default 127.0.0.1
 * ports.http: host port of the public HTTP listener (web UI). @default 8080
 * ports.grpc: host port of the public gRPC listener (sensor API). @default 50051
 * images.postgres: PostgreSQL image. @default postgres:16
 * images.caddy: Caddy image (the proxy). @default caddy:2
 * images.appBuildBase: BUILD_IMAGE of app/Dockerfile. @default node:20-bookworm
 * images.appRuntimeBase: RUNTIME_IMAGE of app/Dockerfile. @default node:20-bookworm-slim
 */
export const dockerSectionSchema = z.strictObject({
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
  images: z
    .strictObject({
      postgres: imageReference.default(DEFAULT_IMAGES.postgres),
      caddy: imageReference.default(DEFAULT_IMAGES.caddy),
      appBuildBase: imageReference.default(DEFAULT_IMAGES.appBuildBase),
      appRuntimeBase: imageReference.default(DEFAULT_IMAGES.appRuntimeBase),
    })
    .prefault({}),
});

export type DockerSection = z.output<typeof dockerSectionSchema>;

/** Example values of every docker key, for the fix of a problem with it. */
export const DOCKER_CONFIG_EXAMPLES: ConfigExamples = {
  'docker.host': 'ssh://deploy@tk.example.com',
  'docker.bindAddress': DEFAULT_BIND_ADDRESS,
  'docker.ports.http': String(DEFAULT_PORTS.http),
  'docker.ports.grpc': String(DEFAULT_PORTS.grpc),
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
export function checkDockerSection(raw: unknown, stack: string): ConfigProblem[] {
  const ports = validFields({ shape: portsShape }, rawField(raw, 'ports'));
  return [...ensureDistinctPorts(ports), ...ensureStackNamesDockerObjects(stack)];
}

function rawField(raw: unknown, key: string): unknown {
  return raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>)[key] : undefined;
}
