import { isIP } from 'node:net';
import { CADDY_BOOTSTRAP_PATH, PROXY_PORTS, bootstrapCaddyConfig, caddyRunCommand } from './proxy/index.js';
import type { PublicTls } from './spec.js';
import type { DockerStackConfig } from '../config.js';
import type { SecretName } from '../stack-secrets.js';

/**
 * The stable part of a Docker deployment as plain data: what stays while releases come and go.
 * infrastructure-objects.ts turns it into the Docker objects' fields once; the Pulumi component
 * (infrastructure.ts) declares those, and the test stand-up (test/support/docker-infra.ts) creates
 * them with the docker CLI, so the tests exercise the very names, ports, variables and aliases a
 * stack gets (test/docker/infra/declaration-drift.test.ts compares the two on a real engine).
 */
export interface DockerInfrastructureSpec {
  stack: string;
  /** `tk-<stack>`: the prefix of every Docker object of the stack. */
  prefix: string;
  /** DOCKER_HOST; undefined: the environment's, or the local socket. */
  dockerHost?: string;
  network: { name: string; labels: Record<string, string> };
  volumes: Record<VolumeKey, VolumeSpec>;
  postgres: ContainerSpec;
  caddy: ContainerSpec;
  endpoints: Endpoints;
  /** HTTPS and gRPC over TLS at Caddy (docker.domain); absent: plain HTTP and h2c. */
  tls?: PublicTls;
}

export const VOLUME_KEYS = ['pgdata', 'snapshots', 'caddyData', 'caddyConfig'] as const;
export type VolumeKey = (typeof VOLUME_KEYS)[number];

export interface VolumeSpec {
  name: string;
  /** Kept by `pulumi destroy` (data survives) unless the stack is ephemeral. */
  retainOnDestroy: boolean;
  labels: Record<string, string>;
}

export type PortName = 'http' | 'https' | 'grpc';

export interface PublishedPort {
  name: PortName;
  hostIp: string;
  hostPort: number;
  containerPort: number;
}

export interface ContainerSpec {
  name: string;
  image: string;
  /** Overrides the image's CMD; undefined keeps it. */
  command?: string[];
  /** Plain environment. */
  env: Record<string, string>;
  /** Environment whose values are stack secrets, by variable name; values never appear in the spec. */
  secretEnv: Record<string, SecretName>;
  mounts: { volume: VolumeKey; containerPath: string }[];
  network: string;
  /** DNS names of the container on the stack's network (besides its name). */
  aliases: string[];
  ports: PublishedPort[];
  restart: 'unless-stopped';
  healthcheck?: HealthcheckSpec;
  /** Creation waits until the health check passes, failing after this many seconds; undefined: it does not wait. */
  waitHealthySeconds?: number;
  /** Files written into the container before it starts. */
  uploads: { path: string; content: string }[];
  labels: Record<string, string>;
  /** How long `docker stop` waits before SIGKILL. */
  stopTimeoutSeconds: number;
}

export interface HealthcheckSpec {
  /** Run by the container's shell (Docker's CMD-SHELL form, as `docker run --health-cmd` takes it). */
  shell: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  retries: number;
  startPeriodSeconds: number;
}

/** How people and the release reach the stack's public listeners. */
export interface Endpoints {
  publicHttpUrl: string;
  publicGrpcAddress: string;
}

/** The name the app (and snapshots, migrations) reach PostgreSQL by on the stack's network. */
export const POSTGRES_NETWORK_ALIAS = 'postgres';
export const POSTGRES_PORT = 5432;
export const POSTGRES_DATA_DIR = '/var/lib/postgresql/data';
/** Where the snapshot volume is mounted in the PostgreSQL container (ReleaseSpec.snapshots.dir). */
export const SNAPSHOTS_DIR = '/snapshots';
/** Labels on every object of a stack (`docker ps --filter label=tk.stack=<stack>`). */
export const INFRA_LABELS = { stack: 'tk.stack', role: 'tk.role' } as const;

export function stackPrefix(stack: string): string {
  return `tk-${stack}`;
}

/** What the infrastructure is planned from: the validated config, secrets aside. */
export type InfrastructureInput = Pick<DockerStackConfig, 'stack' | 'docker' | 'database' | 'ephemeral' | 'release' | 'app'>;

export function planDockerInfrastructure(config: InfrastructureInput): DockerInfrastructureSpec {
  const prefix = stackPrefix(config.stack);
  const labels = (role: string) => ({ [INFRA_LABELS.stack]: config.stack, [INFRA_LABELS.role]: role });
  const network = `${prefix}-net`;
  const volume = (suffix: string, role: string): VolumeSpec => ({ name: `${prefix}-${suffix}`, retainOnDestroy: !config.ephemeral, labels: labels(role) });
  const { ports, bindAddress } = config.docker;
  const tls = planPublicTls(config.docker);

  const postgres: ContainerSpec = {
    name: `${prefix}-postgres`,
    image: config.docker.images.postgres,
    env: { POSTGRES_DB: config.database.name, POSTGRES_USER: config.database.user },
    secretEnv: { POSTGRES_PASSWORD: 'postgresPassword' },
    mounts: [
      { volume: 'pgdata', containerPath: POSTGRES_DATA_DIR },
      { volume: 'snapshots', containerPath: SNAPSHOTS_DIR },
    ],
    network,
    aliases: [POSTGRES_NETWORK_ALIAS],
    // Reached only over the stack's network: never published.
    ports: [],
    restart: 'unless-stopped',
    // Over TCP: during initdb the image runs a socket-only server that must not count as ready.
    healthcheck: {
      shell: `pg_isready -q -h 127.0.0.1 -p ${POSTGRES_PORT} -U ${config.database.user} -d ${config.database.name}`,
      intervalSeconds: 5,
      timeoutSeconds: 5,
      retries: 12,
      startPeriodSeconds: 30,
    },
    // Nothing that needs the database comes before it answers: pulumi up's release, the tests.
    waitHealthySeconds: 180,
    uploads: [],
    labels: labels('postgres'),
    // A checkpoint on a busy database can take a while; SIGKILL mid-way means crash recovery.
    stopTimeoutSeconds: 60,
  };

  const caddy: ContainerSpec = {
    name: `${prefix}-caddy`,
    image: config.docker.images.caddy,
    command: caddyRunCommand(CADDY_BOOTSTRAP_PATH),
    env: {},
    secretEnv: {},
    mounts: [
      { volume: 'caddyData', containerPath: '/data' },
      { volume: 'caddyConfig', containerPath: '/config' },
    ],
    network,
    aliases: [],
    // Only the public listeners are published. The staging listeners (the idle slot) are reached
    // by the health gate from inside the stack network, and the admin API (localhost:2019 in the
    // container) by `docker exec`: neither is published.
    // With a domain, HTTP only redirects to HTTPS (and answers ACME's HTTP challenge).
    ports: [
      { name: 'http', hostIp: bindAddress, hostPort: ports.http, containerPort: PROXY_PORTS.publicHttp },
      ...(tls ? [{ name: 'https' as const, hostIp: bindAddress, hostPort: ports.https, containerPort: PROXY_PORTS.publicHttps }] : []),
      { name: 'grpc', hostIp: bindAddress, hostPort: ports.grpc, containerPort: PROXY_PORTS.publicGrpc },
    ],
    restart: 'unless-stopped',
    uploads: [
      {
        path: CADDY_BOOTSTRAP_PATH,
        content: `${JSON.stringify(bootstrapCaddyConfig({ prefix, graceMs: config.release.drainTimeoutMs, ...(tls ? { tls } : {}) }), null, 2)}\n`,
      },
    ],
    labels: labels('caddy'),
    // Caddy drains in-flight requests on stop; give it the drain timeout and a little more.
    stopTimeoutSeconds: Math.ceil(config.release.drainTimeoutMs / 1000) + 5,
  };

  return {
    stack: config.stack,
    prefix,
    ...(config.docker.host !== undefined ? { dockerHost: config.docker.host } : {}),
    network: { name: network, labels: labels('network') },
    volumes: {
      pgdata: volume('pgdata', 'pgdata'),
      snapshots: volume('snapshots', 'snapshots'),
      caddyData: volume('caddy-data', 'caddy-data'),
      caddyConfig: volume('caddy-config', 'caddy-config'),
    },
    postgres,
    caddy,
    endpoints: planEndpoints(config),
    ...(tls ? { tls } : {}),
  };
}

/** TLS at Caddy for a stack with a domain (the config schema fills grpcDomain and tls then). */
export function planPublicTls(docker: InfrastructureInput['docker']): PublicTls | undefined {
  if (docker.domain === undefined) return undefined;
  return {
    domain: docker.domain,
    grpcDomain: docker.grpcDomain ?? docker.domain,
    issuer: docker.tls ?? 'acme',
    ...(docker.acmeEmail !== undefined ? { acmeEmail: docker.acmeEmail } : {}),
    httpsPort: docker.ports.https,
  };
}

/**
 * Public endpoints: with a domain, https://<domain> and <grpcDomain>:<grpc port>; else
 * `app.publicUrl` when set; otherwise the Docker host's name (from an ssh:// or tcp://
 * DOCKER_HOST) or the bind address, with the published ports.
 */
export function planEndpoints(config: Pick<InfrastructureInput, 'docker' | 'app'>): Endpoints {
  const { ports, bindAddress, host } = config.docker;
  const tls = planPublicTls(config.docker);
  if (tls) {
    return {
      publicHttpUrl: `https://${tls.domain}${tls.httpsPort === 443 ? '' : `:${tls.httpsPort}`}`,
      publicGrpcAddress: `${tls.grpcDomain}:${ports.grpc}`,
    };
  }
  const publicHost = dockerHostName(host) ?? (bindAddress === '0.0.0.0' || bindAddress === '::' ? '127.0.0.1' : bindAddress);
  const publicUrl = config.app.publicUrl;
  const grpcHost = publicUrl ? new URL(publicUrl).hostname : hostForUrl(publicHost);
  return {
    publicHttpUrl: publicUrl ?? `http://${hostForUrl(publicHost)}:${ports.http}`,
    publicGrpcAddress: `${grpcHost}:${ports.grpc}`,
  };
}

/** The machine a tcp:// or ssh:// DOCKER_HOST points at; undefined for a local socket. */
export function dockerHostName(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  const url = new URL(host);
  if (url.protocol === 'unix:') return undefined;
  return url.hostname.replace(/^\[|\]$/g, '');
}

function hostForUrl(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** TK_DATABASE_URL of the app: PostgreSQL by its network alias. Holds the password: wrap it as a secret. */
export function databaseUrl(spec: Pick<DockerInfrastructureSpec, 'postgres'>, password: string): string {
  const user = spec.postgres.env.POSTGRES_USER ?? '';
  const name = spec.postgres.env.POSTGRES_DB ?? '';
  return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${POSTGRES_NETWORK_ALIAS}:${POSTGRES_PORT}/${encodeURIComponent(name)}`;
}
