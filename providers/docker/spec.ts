/**
 * Everything a release needs to know, as typed data. The Pulumi program builds it from the
 * validated stack config (providers/<target>/); the release steps in components/ receive it and
 * never read config themselves. Secret values are not in here: `secretEnv` names the variables
 * whose values the release process holds in its environment and forwards to containers.
 */
export { SLOTS, otherSlot, APP_SERVICES, APP_PORTS, type Slot, type AppService, type ReleaseImage } from '../../components/release/plan.js';
import type { ReleaseImage, StandbyMode } from '../../components/release/plan.js';
import type { DockerMonitoringRelease } from './monitoring/release-target.js';

/** Who signs the public certificates: Let's Encrypt over ACME, or Caddy's own local CA. */
/** Where app/Dockerfile puts the app: its node_modules (the gate's probe needs @grpc/grpc-js) and its command. */
export const APP_IMAGE_DIR = '/opt/trapperkeeper';
/** The image's entrypoint: `trapperkeeper` (a `docker exec` in a running app container starts it by hand). */
export const APP_IMAGE_COMMAND = ['node', `${APP_IMAGE_DIR}/app/bin/trapperkeeper.js`] as const;

export const TLS_ISSUERS = ['acme', 'internal'] as const;
export type TlsIssuer = (typeof TLS_ISSUERS)[number];

/**
 * TLS of the public listeners (a stack with a domain): Caddy holds a certificate for each name,
 * serves the web UI over HTTPS (HTTP redirects there) and gRPC over TLS.
 */
export interface PublicTls {
  /** The web UI's name (and the sensor API health's): certificate subject and SNI. */
  domain: string;
  /** The sensor API's gRPC name; its own certificate when it differs from `domain`. */
  grpcDomain: string;
  issuer: TlsIssuer;
  /** The ACME account's contact (expiry and problem notices); only with issuer acme. */
  acmeEmail?: string;
  /** Host port HTTPS is published on: the redirect from HTTP names it unless it is 443. */
  httpsPort: number;
}

export interface ReleaseSpec {
  stack: string;
  /** Prefix of every Docker object of this stack, e.g. `tk-dev`. */
  prefix: string;
  /** `DOCKER_HOST` of the target (local socket when absent, or `ssh://user@host`). */
  dockerHost?: string;
  /** The private network the app, PostgreSQL and Caddy share. */
  network: string;
  image: ReleaseImage;
  /** Non-secret environment of the app containers (TK_LOG_LEVEL, ...). */
  appEnv: Record<string, string>;
  /** Names of secret variables (TK_DATABASE_URL, TK_HMAC_SECRET, ...) forwarded by name. */
  secretEnv: string[];
  database: {
    /** The PostgreSQL container (snapshots run inside it over its local socket). */
    container: string;
    name: string;
    user: string;
  };
  snapshots: {
    /** Folder inside the PostgreSQL container where the snapshot volume is mounted. */
    dir: string;
    retentionDays: number;
    /** pg_dump --lock-wait-timeout: a dump never queues behind a lock longer than this. */
    lockWaitTimeoutMs: number;
  };
  proxy: {
    container: string;
    /**
     * Public endpoints as users reach them (through Caddy). Caddy's staging listeners (the idle
     * slot) are not published: the health gate reaches them inside the stack network only.
     */
    publicHttpUrl: string;
    publicGrpcAddress: string;
    /** HTTPS and gRPC over TLS on the public listeners; absent: plain HTTP and h2c, as before. */
    tls?: PublicTls;
  };
  gate: {
    /** Consecutive successes of every check required to promote. */
    successes: number;
    intervalMs: number;
    timeoutMs: number;
  };
  /** How long in-flight requests of the old slot may take before it is stopped. */
  drainTimeoutMs: number;
  /** The previous release after a switch: kept running unrouted, or stopped. @default running */
  standby?: StandbyMode;
  /** Release images kept for `rollback --to`. */
  keepReleases: number;
  lock: {
    /** Wait this long for another release's lock; 0 refuses at once. */
    waitMs: number;
  };
  /** `pulumi destroy` deletes the data volumes too (`destroy` takes a final snapshot first). @default false */
  ephemeral?: boolean;
  /** The stack's monitoring containers (monitoring.enabled); absent: none runs. */
  monitoring?: DockerMonitoringRelease;
}
