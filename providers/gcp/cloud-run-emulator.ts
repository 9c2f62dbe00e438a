/**
 * Test fixture (not exported by the barrel): the part of the Cloud Run Admin API v2 that the GCP
 * release uses, served over gRPC on 127.0.0.1 from the official protos that @google-cloud/run
 * ships, so the real ServicesClient, RevisionsClient, JobsClient and ExecutionsClient talk to it
 * with their own wire format, long-running operations included (google.longrunning.Operations).
 *
 * Control plane: Services.GetService / UpdateService (traffic and template; a template update
 * creates a revision), Revisions.GetRevision / ListRevisions / DeleteRevision, Jobs.CreateJob /
 * GetJob / UpdateJob / RunJob (with execution overrides: a named container's args and env, the
 * task timeout), Executions.GetExecution, Operations.GetOperation. It keeps what
 * Cloud Run keeps: revisions, the latest ready one, traffic blocks with LATEST resolved as Cloud
 * Run resolves it, an etag an update must match; it refuses what Cloud Run refuses (percentages
 * not adding up to 100, an unknown revision, a tag used twice, a revision name taken, deleting a
 * revision traffic refers to).
 *
 * Data plane (with `runtime`): a revision's container runs on the local Docker engine while
 * traffic or a tag refers to it (else it is scaled to zero: stopped), published on 127.0.0.1; a
 * revision is ready once its startup probe passes, and each tag's URL (trafficStatuses[].uri) is
 * `http://127.0.0.1:<port>` instead of `https://<tag>---<service>.run.app`. A job execution runs
 * its task's container to its end; its exit code decides success. Volumes: `cloudSqlInstance` is a
 * unix socket forwarding to PostgreSQL on 127.0.0.1 (emulator/cloud-sql-connector.ts), `gcs` a
 * folder whose files are uploaded to the bucket (fake-gcs-server) when the task ends (gcsfuse
 * uploads a file when it is closed). Secret Manager references resolve from `runtime.secrets`.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { startCloudSqlConnector, type CloudSqlConnector } from './emulator/cloud-sql-connector.js';
import { containerLogs, containerState, publishedAddress, removeContainer, removeLabelled, runContainer, startContainer, type ContainerSpec } from './emulator/docker-runtime.js';
import { releaseBucket } from './storage/release-bucket.js';

// Google's auth library otherwise probes the GCE metadata server (169.254.169.254) to find
// credentials; tests talk to 127.0.0.1 only.
process.env.METADATA_SERVER_DETECTION = 'none';
const require = createRequire(import.meta.url);
const RUN_PROTOS = join(dirname(require.resolve('@google-cloud/run/package.json')), 'build', 'protos');
// google-gax exports no package.json; its protos sit beside its entry point (build/src/index.js).
const GAX_PROTOS = join(dirname(require.resolve('google-gax')), '..', 'protos');
const PROTOS = ['google/cloud/run/v2/service.proto', 'google/cloud/run/v2/revision.proto', 'google/cloud/run/v2/job.proto', 'google/cloud/run/v2/execution.proto', 'google/longrunning/operations.proto'];

const LATEST = 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST';
const REVISION = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION';
const READY_TIMEOUT_MS = 120_000;
/** How long a TCP probe's connection must stay open to count (see probe()). */
const TCP_PROBE_HOLD_MS = 300;

interface Traffic {
  type?: string;
  revision?: string;
  percent?: number;
  tag?: string;
}

/** A Cloud Run container as the API carries it (camelCase, only what the emulator reads). */
export interface WireContainer {
  name?: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string; valueSource?: { secretKeyRef?: { secret: string; version?: string } } }>;
  ports?: Array<{ name?: string; containerPort?: number }>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  startupProbe?: { httpGet?: { path?: string; port?: number }; grpc?: { port?: number }; tcpSocket?: { port?: number } };
}
export interface WireVolume {
  name: string;
  cloudSqlInstance?: { instances?: string[] };
  gcs?: { bucket: string; readOnly?: boolean };
}
export interface WireTemplate {
  revision?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  containers?: WireContainer[];
  volumes?: WireVolume[];
  serviceAccount?: string;
  [key: string]: unknown;
}

export interface EmulatedRevision {
  name: string;
  service: string;
  template: WireTemplate;
  createTime: Date;
  state: 'starting' | 'ready' | 'failed';
  failure?: string;
  /** `http://127.0.0.1:<port>` while its container runs and is ready. */
  url?: string;
  container?: string;
  /** Scaling in progress (start or stop), so reconciling never overlaps itself. */
  scaling?: Promise<void>;
}

export interface EmulatedService {
  name: string;
  etag: string;
  revisions: string[];
  latestReadyRevision: string;
  latestCreatedRevision: string;
  traffic: Traffic[];
  template: WireTemplate;
  /** `http://127.0.0.1:<port>`: Cloud Run's front end for the service, routing each request to the serving revision. */
  uri: string;
}

export interface EmulatedExecution {
  name: string;
  job: string;
  createTime: Date;
  completionTime?: Date;
  exitCode?: number;
  output?: string;
}

export interface CloudRunEmulatorOptions {
  /** Without it, revisions are ready at once and nothing runs (control plane only). */
  runtime?: {
    /** Secret Manager: secret id -> value, for secretKeyRef variables. */
    secrets: Record<string, string>;
    /** Where `gcs` volumes' files go (fake-gcs-server's apiEndpoint). */
    storageEndpoint: string;
    /** Where a `cloudSqlInstance` volume's socket forwards to. @default 127.0.0.1:5432 */
    postgres?: { host: string; port: number };
  };
}

export interface CloudRunEmulator {
  /** `127.0.0.1`, for the client's apiEndpoint, and the port. */
  host: string;
  port: number;
  /**
   * Full name projects/<p>/locations/<r>/services/<s>, created as Pulumi creates it: `template`
   * becomes its first revision, on LATEST with all the traffic, its container running (with
   * `runtime`) and ready before this resolves; rejects when that revision never gets ready.
   */
  addService(name: string, template?: WireTemplate): Promise<EmulatedService>;
  /** Full name projects/<p>/locations/<r>/jobs/<j>, as Pulumi creates it (the job's template: taskCount, template.containers ...). */
  addJob(name: string, template: Record<string, unknown>): void;
  /** A job's current template (what the release updated). */
  jobTemplate(name: string): Record<string, unknown>;
  /** A new ready revision of the current template, made outside the release (LATEST blocks follow it). */
  createRevision(service: string): string;
  service(name: string): EmulatedService;
  revision(service: string, revision: string): EmulatedRevision;
  executions: EmulatedExecution[];
  /** Every UpdateService request, as received. */
  updates: Array<{ service: string; paths: string[] }>;
  /**
   * Fault injection: the next `count` calls of `method` (`GetService`, `UpdateService`,
   * `GetOperation`, ...; Infinity: until told otherwise, 0: stop) are refused with
   * RESOURCE_EXHAUSTED, as Cloud Run refuses a project whose request quota is spent.
   */
  throttle(method: string, count: number): void;
  /** Every call received, in order, with when it came and whether it was throttled. */
  calls: Array<{ method: string; at: number; throttled: boolean }>;
  stop(): Promise<void>;
}

/** RunJobRequest.Overrides as the wire carries it. */
interface RunOverrides {
  containerOverrides?: Array<{ name?: string; args?: string[]; env?: NonNullable<WireContainer['env']>; clearArgs?: boolean }>;
  taskCount?: number;
  timeout?: { seconds?: string };
}

type Callback = grpc.sendUnaryData<unknown>;
type Call<T> = grpc.ServerUnaryCall<T, unknown>;
const refuse = (callback: Callback, code: grpc.status, details: string) => callback({ code, details, name: 'Error', message: details });
const shortName = (name: string) => name.slice(name.lastIndexOf('/') + 1);
const timestamp = (date: Date) => ({ seconds: String(Math.floor(date.getTime() / 1000)), nanos: (date.getTime() % 1000) * 1e6 });

export async function startCloudRunEmulator(options: CloudRunEmulatorOptions = {}): Promise<CloudRunEmulator> {
  const definition = protoLoader.loadSync(PROTOS, { includeDirs: [RUN_PROTOS, GAX_PROTOS], keepCase: false, enums: String, longs: String, defaults: false, oneofs: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    google: { cloud: { run: { v2: Record<'Services' | 'Revisions' | 'Jobs' | 'Executions', { service: grpc.ServiceDefinition }> } }; longrunning: { Operations: { service: grpc.ServiceDefinition } } };
  };
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => [RUN_PROTOS, GAX_PROTOS].map((dir) => join(dir, target)).find((path) => existsSync(path)) ?? target;
  await root.load(PROTOS, { keepCase: false });
  const pack = (type: string, value: object) => {
    const message = root.lookupType(`google.cloud.run.v2.${type}`);
    return { typeUrl: `type.googleapis.com/google.cloud.run.v2.${type}`, value: Buffer.from(message.encode(message.fromObject(value)).finish()) };
  };

  const id = randomBytes(3).toString('hex');
  const label = `org.trapperkeeper.cloud-run-emulator=${id}`;
  const runtime = options.runtime;
  const connector: CloudSqlConnector | undefined = runtime ? startCloudSqlConnector(runtime.postgres ?? { host: '127.0.0.1', port: 5432 }) : undefined;
  const services = new Map<string, EmulatedService>();
  const revisions = new Map<string, EmulatedRevision>();
  const jobs = new Map<string, { name: string; template: Record<string, unknown>; etag: string; createTime: Date }>();
  const executions: EmulatedExecution[] = [];
  const operations = new Map<string, { done: boolean; response?: { typeUrl: string; value: Buffer }; error?: { code: number; message: string } }>();
  const counters = new Map<string, number>();
  const updates: CloudRunEmulator['updates'] = [];
  let etagCounter = 0;
  let operationCounter = 0;
  let stopping = false;
  /** Every start or stop of a container, awaited before the emulator stops. */
  const pending = new Set<Promise<void>>();
  const nextEtag = () => `"etag-${++etagCounter}"`;
  const revisionKey = (service: string, revision: string) => `${service}/revisions/${shortName(revision)}`;

  const resolveLatest = (service: EmulatedService, t: Traffic) => (t.type === LATEST || (!t.revision && t.type !== REVISION) ? service.latestReadyRevision : (t.revision ?? ''));
  const tagUri = (service: EmulatedService, revision: string) => revisions.get(revisionKey(service.name, revision))?.url ?? '';

  const wireService = (service: EmulatedService) => ({
    name: service.name,
    etag: service.etag,
    template: service.template,
    latestReadyRevision: `${service.name}/revisions/${service.latestReadyRevision}`,
    latestCreatedRevision: `${service.name}/revisions/${service.latestCreatedRevision}`,
    traffic: service.traffic.map((t) => ({ ...t })),
    trafficStatuses: service.traffic.map((t) => {
      const revision = resolveLatest(service, t);
      return { type: REVISION, revision, percent: t.percent ?? 0, tag: t.tag ?? '', uri: t.tag ? tagUri(service, revision) : '' };
    }),
    uri: service.uri,
  });

  /**
   * The service URL: a front on 127.0.0.1 that routes each request (each HTTP/2 stream for an
   * h2c service) to the revision with the traffic at that moment, as Cloud Run's front end does;
   * a kept-alive client connection therefore reaches the new revision right after a switch.
   */
  const fronts: Array<{ close(): void }> = [];
  const servingAddress = (service: EmulatedService): URL | undefined => {
    const serving = service.traffic.find((t) => (t.percent ?? 0) > 0);
    const url = serving ? tagUri(service, resolveLatest(service, serving)) : '';
    return url ? new URL(url) : undefined;
  };
  async function startFront(service: EmulatedService): Promise<string> {
    const h2c = service.template.containers?.[0]?.ports?.[0]?.name === 'h2c';
    let server: http.Server | http2.Http2Server;
    if (h2c) {
      const sessions = new Map<string, http2.ClientHttp2Session>();
      const h2 = http2.createServer();
      h2.on('stream', (stream, headers) => {
        const target = servingAddress(service);
        if (!target) return stream.respond({ ':status': 503 }, { endStream: true });
        let session = sessions.get(target.origin);
        if (!session || session.closed || session.destroyed) {
          session = http2.connect(target.origin);
          session.on('error', () => sessions.delete(target.origin));
          sessions.set(target.origin, session);
        }
        const forwarded = Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith(':') || [':method', ':path', ':scheme'].includes(name)));
        const upstream = session.request(forwarded);
        // A gRPC error without a message body is one HEADERS frame that ends the stream (trailers-only): passed on as such.
        upstream.on('response', (responseHeaders, flags) =>
          stream.respond(responseHeaders, (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0 ? { endStream: true } : { waitForTrailers: true }),
        );
        let trailers: http2.IncomingHttpHeaders | undefined;
        upstream.on('trailers', (t) => (trailers = t));
        stream.on('wantTrailers', () => stream.sendTrailers(Object.fromEntries(Object.entries(trailers ?? {}).filter(([name]) => !name.startsWith(':')))));
        stream.pipe(upstream);
        upstream.pipe(stream);
        upstream.on('error', () => stream.destroy());
        stream.on('error', () => upstream.destroy());
      });
      fronts.push({ close: () => { for (const session of sessions.values()) session.destroy(); h2.close(); } });
      server = h2;
    } else {
      const h1 = http.createServer((request, response) => {
        const target = servingAddress(service);
        if (!target) return void response.writeHead(503).end('no revision serves');
        const upstream = http.request({ host: target.hostname, port: Number(target.port), method: request.method, path: request.url, headers: request.headers }, (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        });
        upstream.on('error', () => response.destroy());
        request.pipe(upstream);
      });
      fronts.push({ close: () => { h1.closeAllConnections(); h1.close(); } });
      server = h1;
    }
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  const wireRevision = (revision: EmulatedRevision) => ({
    name: revisionKey(revision.service, revision.name),
    service: revision.service,
    labels: revision.template.labels ?? {},
    annotations: revision.template.annotations ?? {},
    containers: revision.template.containers ?? [],
    volumes: revision.template.volumes ?? [],
    serviceAccount: revision.template.serviceAccount ?? '',
    createTime: timestamp(revision.createTime),
    conditions: [
      {
        type: 'Ready',
        state: revision.state === 'ready' ? 'CONDITION_SUCCEEDED' : revision.state === 'failed' ? 'CONDITION_FAILED' : 'CONDITION_PENDING',
        message: revision.failure ?? '',
      },
    ],
  });

  const wireExecution = (execution: EmulatedExecution) => ({
    name: execution.name,
    job: shortName(execution.job),
    createTime: timestamp(execution.createTime),
    ...(execution.completionTime ? { completionTime: timestamp(execution.completionTime) } : {}),
    taskCount: 1,
    runningCount: execution.completionTime ? 0 : 1,
    succeededCount: execution.exitCode === 0 ? 1 : 0,
    failedCount: execution.exitCode !== undefined && execution.exitCode !== 0 ? 1 : 0,
    conditions: [
      {
        type: 'Completed',
        state: execution.exitCode === undefined ? 'CONDITION_PENDING' : execution.exitCode === 0 ? 'CONDITION_SUCCEEDED' : 'CONDITION_FAILED',
        message: execution.exitCode === undefined || execution.exitCode === 0 ? '' : `Task ${shortName(execution.name)}-0 failed with exit code ${execution.exitCode}`,
      },
    ],
  });

  const newOperation = (parent: string) => {
    const name = `${parent.split('/').slice(0, 4).join('/')}/operations/${id}-${++operationCounter}`;
    operations.set(name, { done: false });
    return name;
  };
  const operationReply = (name: string) => {
    const op = operations.get(name)!;
    return { name, done: op.done, ...(op.response ? { response: op.response } : {}), ...(op.error ? { error: op.error } : {}) };
  };

  // --- data plane --------------------------------------------------------------------------
  function containerEnv(container: WireContainer, extra: Record<string, string>): Record<string, string> {
    const env: Record<string, string> = { ...extra };
    for (const variable of container.env ?? []) {
      const ref = variable.valueSource?.secretKeyRef;
      if (ref) {
        const value = runtime?.secrets[shortName(ref.secret)];
        if (value === undefined) throw new Error(`Secret ${ref.secret} not found or has no versions`);
        env[variable.name] = value;
      } else env[variable.name] = variable.value ?? '';
    }
    return env;
  }

  async function mountsOf(template: { volumes?: WireVolume[] }, container: WireContainer): Promise<{ mounts: ContainerSpec['mounts']; gcs: Array<{ folder: string; bucket: string }> }> {
    const mounts: ContainerSpec['mounts'] = [];
    const gcs: Array<{ folder: string; bucket: string }> = [];
    for (const mount of container.volumeMounts ?? []) {
      const volume = (template.volumes ?? []).find((v) => v.name === mount.name);
      if (!volume) throw new Error(`volume ${mount.name} is mounted but not declared`);
      if (volume.cloudSqlInstance && connector) {
        for (const instance of volume.cloudSqlInstance.instances ?? []) await connector.ensure(instance);
        mounts.push({ host: connector.folder, container: mount.mountPath });
      } else if (volume.gcs) {
        const folder = mkdtempSync(join(tmpdir(), 'tk-gcsfuse-'));
        chmodSync(folder, 0o777);
        mounts.push({ host: folder, container: mount.mountPath });
        gcs.push({ folder, bucket: volume.gcs.bucket });
      } else throw new Error(`volume ${mount.name}: the emulator mounts cloudSqlInstance and gcs volumes only`);
    }
    return { mounts, gcs };
  }

  async function uploadFolder(folder: string, bucketName: string): Promise<void> {
    const bucket = releaseBucket({ project: 'emulated', bucket: bucketName, apiEndpoint: runtime!.storageEndpoint });
    const walk = (dir: string): string[] => readdirSync(dir).flatMap((entry) => (statSync(join(dir, entry)).isDirectory() ? walk(join(dir, entry)) : [join(dir, entry)]));
    for (const path of walk(folder)) await bucket.upload(path, { destination: relative(folder, path), resumable: false });
  }

  async function probe(revision: EmulatedRevision, address: string, container: WireContainer, port: number): Promise<boolean> {
    const http = container.startupProbe?.httpGet;
    if (http) {
      try {
        const response = await fetch(`http://${address}${http.path ?? '/'}`, { signal: AbortSignal.timeout(2000) });
        return response.status >= 200 && response.status < 400;
      } catch {
        return false;
      }
    }
    // TCP: the connection opens and stays open. Docker's port proxy accepts on 127.0.0.1 before
    // anything listens in the container and closes the connection once it cannot reach it, so
    // an accepted connection alone proves nothing here.
    const [host, portText] = address.split(':');
    return new Promise((resolve) => {
      let settled = false;
      const settle = (ok: boolean) => {
        if (settled) return;
        settled = true;
        socket.destroy();
        resolve(ok);
      };
      const socket = connect({ host: host!, port: Number(portText ?? port) }, () => void setTimeout(() => settle(true), TCP_PROBE_HOLD_MS));
      socket.once('error', () => settle(false));
      socket.once('close', () => settle(false));
      socket.once('end', () => settle(false));
      socket.setTimeout(2000, () => settle(false));
    });
  }

  /** Starts a revision's container and waits for its startup probe; sets ready or failed. */
  async function scaleUp(revision: EmulatedRevision): Promise<void> {
    const container = revision.template.containers?.[0];
    if (!runtime || !container?.image) {
      revision.state = 'ready';
      return;
    }
    const port = container.ports?.[0]?.containerPort ?? 8080;
    const name = `tk-gcprun-${id}-${revision.name}`.slice(0, 120);
    try {
      const { mounts } = await mountsOf(revision.template, container);
      await removeContainer(name, 0);
      await startContainer({
        name,
        image: container.image,
        ...(container.command?.length ? { command: container.command } : {}),
        ...(container.args?.length ? { args: container.args } : {}),
        env: containerEnv(container, { PORT: String(port), K_SERVICE: shortName(revision.service), K_REVISION: revision.name, K_CONFIGURATION: shortName(revision.service) }),
        mounts,
        publish: port,
        labels: { 'org.trapperkeeper.cloud-run-emulator': id },
      });
      revision.container = name;
      const address = await publishedAddress(name, port);
      const deadline = Date.now() + READY_TIMEOUT_MS;
      for (;;) {
        if (await probe(revision, address, container, port)) break;
        const state = await containerState(name);
        if (!state?.running) throw new Error(`The user-provided container exited (code ${state?.exitCode ?? 'unknown'}): ${await containerLogs(name)}`);
        if (Date.now() > deadline || stopping) throw new Error(`The user-provided container failed to pass its startup probe within ${READY_TIMEOUT_MS / 1000} s: ${await containerLogs(name)}`);
        await sleep(250);
      }
      revision.url = `http://${address}`;
      revision.state = 'ready';
    } catch (error) {
      revision.state = 'failed';
      revision.failure = `Revision '${revision.name}' is not ready and cannot serve traffic. ${(error as Error).message}`;
      revision.url = undefined;
      if (revision.container) await removeContainer(revision.container, 0);
      revision.container = undefined;
    }
  }

  async function scaleToZero(revision: EmulatedRevision): Promise<void> {
    const container = revision.container;
    revision.url = undefined;
    revision.container = undefined;
    if (container) await removeContainer(container, 10);
  }

  /** Keeps a container running exactly for the revisions that traffic or a tag refers to. */
  function reconcile(service: EmulatedService): void {
    if (!runtime) return;
    const referenced = new Set(service.traffic.map((t) => resolveLatest(service, t)));
    for (const name of service.revisions) {
      const revision = revisions.get(revisionKey(service.name, name));
      if (!revision || !revision.template.containers?.[0]?.image) continue;
      const wanted = referenced.has(name);
      const previous = revision.scaling ?? Promise.resolve();
      revision.scaling = previous.then(async () => {
        if (stopping || !revisions.has(revisionKey(service.name, name))) return;
        if (wanted && !revision.container && revision.state !== 'failed') {
          revision.state = 'starting';
          await scaleUp(revision);
        } else if (!wanted && revision.container) await scaleToZero(revision);
      });
      pending.add(revision.scaling);
    }
  }

  function createRevision(service: EmulatedService, template: WireTemplate): EmulatedRevision {
    const next = (counters.get(service.name) ?? 0) + 1;
    counters.set(service.name, next);
    const name = template.revision || `${shortName(service.name)}-${String(next).padStart(5, '0')}-${randomBytes(2).toString('hex').slice(0, 3)}`;
    const revision: EmulatedRevision = { name, service: service.name, template: { ...template, revision: name }, createTime: new Date(), state: 'starting' };
    revisions.set(revisionKey(service.name, name), revision);
    service.revisions.push(name);
    service.latestCreatedRevision = name;
    service.template = { ...template, revision: '' };
    service.etag = nextEtag();
    return revision;
  }

  // --- control plane -----------------------------------------------------------------------
  const server = new grpc.Server();
  const throttles = new Map<string, number>();
  const calls: CloudRunEmulator['calls'] = [];
  /** Adds a service's handlers, each answering RESOURCE_EXHAUSTED first while its method is throttled. */
  const serve = (definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation) =>
    server.addService(
      definition,
      Object.fromEntries(
        Object.entries(handlers).map(([method, handler]) => [
          method,
          (call: Call<unknown>, callback: Callback) => {
            const left = throttles.get(method) ?? 0;
            calls.push({ method, at: Date.now(), throttled: left > 0 });
            if (left <= 0) return (handler as grpc.handleUnaryCall<unknown, unknown>)(call, callback);
            throttles.set(method, left - 1);
            return refuse(callback, grpc.status.RESOURCE_EXHAUSTED, `Quota exceeded for quota metric 'Requests' and limit 'Requests per minute' of service 'run.googleapis.com' (${method})`);
          },
        ]),
      ),
    );
  const v2 = loaded.google.cloud.run.v2;
  serve(v2.Services.service, {
    GetService(call: Call<{ name: string }>, callback: Callback) {
      const service = services.get(call.request.name);
      if (!service) return refuse(callback, grpc.status.NOT_FOUND, `Service ${call.request.name} not found`);
      return callback(null, wireService(service));
    },
    UpdateService(call: Call<{ service: { name: string; etag?: string; traffic?: Traffic[]; template?: WireTemplate }; updateMask?: { paths?: string[] } }>, callback: Callback) {
      const request = call.request;
      const service = services.get(request.service.name);
      if (!service) return refuse(callback, grpc.status.NOT_FOUND, `Service ${request.service.name} not found`);
      const paths = request.updateMask?.paths ?? [];
      updates.push({ service: service.name, paths });
      if (request.service.etag && request.service.etag !== service.etag) return refuse(callback, grpc.status.ABORTED, 'the service was modified since it was read (etag mismatch)');
      if (paths.length === 0 || paths.some((path) => path !== 'traffic' && path !== 'template')) return refuse(callback, grpc.status.UNIMPLEMENTED, `the emulator updates traffic and template only, not ${paths.join(', ') || '(no update mask)'}`);
      let traffic = service.traffic;
      if (paths.includes('traffic')) {
        traffic = (request.service.traffic ?? []).map((t) => ({ type: t.type, revision: t.revision ? shortName(t.revision) : undefined, percent: t.percent ?? 0, tag: t.tag || undefined }));
        const total = traffic.reduce((sum, t) => sum + (t.percent ?? 0), 0);
        if (total !== 100) return refuse(callback, grpc.status.INVALID_ARGUMENT, `traffic percentages add up to ${total}, not 100`);
        const unknown = traffic.find((t) => t.type !== LATEST && !service.revisions.includes(t.revision ?? ''));
        if (unknown) return refuse(callback, grpc.status.INVALID_ARGUMENT, `revision ${unknown.revision ?? '(none)'} does not exist`);
        const tags = traffic.map((t) => t.tag).filter(Boolean);
        if (new Set(tags).size !== tags.length) return refuse(callback, grpc.status.INVALID_ARGUMENT, 'a traffic tag is used more than once');
      }
      let created: EmulatedRevision | undefined;
      if (paths.includes('template')) {
        const template = request.service.template ?? {};
        if (template.revision && service.revisions.includes(template.revision)) return refuse(callback, grpc.status.ALREADY_EXISTS, `Revision named '${template.revision}' with different configuration already exists.`);
        created = createRevision(service, template);
      }
      service.traffic = traffic.map((t) => Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)) as Traffic);
      service.etag = nextEtag();
      const operation = newOperation(service.name);
      const finish = async () => {
        if (created) {
          created.scaling = scaleUp(created);
          pending.add(created.scaling);
          await created.scaling;
          if (created.state === 'failed') {
            operations.set(operation, { done: true, error: { code: grpc.status.FAILED_PRECONDITION, message: created.failure ?? 'revision failed' } });
            return;
          }
          service.latestReadyRevision = created.name;
          service.etag = nextEtag();
        }
        reconcile(service);
        operations.set(operation, { done: true, response: pack('Service', wireService(service)) });
      };
      if (!created) {
        reconcile(service);
        operations.set(operation, { done: true, response: pack('Service', wireService(service)) });
      } else void finish();
      return callback(null, operationReply(operation));
    },
  });
  serve(v2.Revisions.service, {
    GetRevision(call: Call<{ name: string }>, callback: Callback) {
      const revision = revisions.get(call.request.name);
      if (!revision) return refuse(callback, grpc.status.NOT_FOUND, `Revision ${call.request.name} not found`);
      return callback(null, wireRevision(revision));
    },
    ListRevisions(call: Call<{ parent: string }>, callback: Callback) {
      const service = services.get(call.request.parent);
      if (!service) return refuse(callback, grpc.status.NOT_FOUND, `Service ${call.request.parent} not found`);
      const listed = service.revisions.map((name) => revisions.get(revisionKey(service.name, name))).filter((r): r is EmulatedRevision => r !== undefined);
      return callback(null, { revisions: listed.reverse().map(wireRevision), nextPageToken: '' });
    },
    DeleteRevision(call: Call<{ name: string }>, callback: Callback) {
      const revision = revisions.get(call.request.name);
      if (!revision) return refuse(callback, grpc.status.NOT_FOUND, `Revision ${call.request.name} not found`);
      const service = services.get(revision.service)!;
      if (service.traffic.some((t) => resolveLatest(service, t) === revision.name)) {
        return refuse(callback, grpc.status.FAILED_PRECONDITION, `Revision ${revision.name} cannot be deleted: traffic refers to it`);
      }
      revisions.delete(call.request.name);
      service.revisions = service.revisions.filter((name) => name !== revision.name);
      if (service.latestReadyRevision === revision.name) {
        service.latestReadyRevision = [...service.revisions].reverse().find((name) => revisions.get(revisionKey(service.name, name))?.state === 'ready') ?? '';
      }
      service.etag = nextEtag();
      const operation = newOperation(revision.service);
      const wire = wireRevision(revision);
      revision.scaling = (revision.scaling ?? Promise.resolve()).then(() => scaleToZero(revision));
      pending.add(revision.scaling);
      void revision.scaling.then(() => operations.set(operation, { done: true, response: pack('Revision', wire) }));
      return callback(null, operationReply(operation));
    },
  });
  serve(v2.Jobs.service, {
    CreateJob(call: Call<{ parent: string; jobId: string; job: { template?: Record<string, unknown> } }>, callback: Callback) {
      const name = `${call.request.parent}/jobs/${call.request.jobId}`;
      if (jobs.has(name)) return refuse(callback, grpc.status.ALREADY_EXISTS, `Job ${name} already exists`);
      const job = { name, template: call.request.job.template ?? {}, etag: nextEtag(), createTime: new Date() };
      jobs.set(name, job);
      const operation = newOperation(name);
      operations.set(operation, { done: true, response: pack('Job', { name, etag: job.etag, template: job.template }) });
      return callback(null, operationReply(operation));
    },
    GetJob(call: Call<{ name: string }>, callback: Callback) {
      const job = jobs.get(call.request.name);
      if (!job) return refuse(callback, grpc.status.NOT_FOUND, `Job ${call.request.name} not found`);
      return callback(null, { name: job.name, etag: job.etag, template: job.template });
    },
    UpdateJob(call: Call<{ job: { name: string; etag?: string; template?: Record<string, unknown> } }>, callback: Callback) {
      const job = jobs.get(call.request.job.name);
      if (!job) return refuse(callback, grpc.status.NOT_FOUND, `Job ${call.request.job.name} not found`);
      if (call.request.job.etag && call.request.job.etag !== job.etag) return refuse(callback, grpc.status.ABORTED, 'the job was modified since it was read (etag mismatch)');
      job.template = call.request.job.template ?? {};
      job.etag = nextEtag();
      const operation = newOperation(job.name);
      operations.set(operation, { done: true, response: pack('Job', { name: job.name, etag: job.etag, template: job.template }) });
      return callback(null, operationReply(operation));
    },
    RunJob(call: Call<{ name: string; overrides?: RunOverrides }>, callback: Callback) {
      const job = jobs.get(call.request.name);
      if (!job) return refuse(callback, grpc.status.NOT_FOUND, `Job ${call.request.name} not found`);
      const overridden = withOverrides(job.template, call.request.overrides);
      if (typeof overridden === 'string') return refuse(callback, grpc.status.INVALID_ARGUMENT, overridden);
      const execution: EmulatedExecution = { name: `${job.name}/executions/${shortName(job.name)}-${randomBytes(3).toString('hex').slice(0, 5)}`, job: job.name, createTime: new Date() };
      executions.push(execution);
      const operation = newOperation(job.name);
      void runExecution(overridden, execution).then(() => {
        execution.completionTime = new Date();
        operations.set(operation, { done: true, response: pack('Execution', wireExecution(execution)) });
      });
      return callback(null, operationReply(operation));
    },
  });
  serve(v2.Executions.service, {
    GetExecution(call: Call<{ name: string }>, callback: Callback) {
      const execution = executions.find((e) => e.name === call.request.name);
      if (!execution) return refuse(callback, grpc.status.NOT_FOUND, `Execution ${call.request.name} not found`);
      return callback(null, wireExecution(execution));
    },
  });
  serve(loaded.google.longrunning.Operations.service, {
    GetOperation(call: Call<{ name: string }>, callback: Callback) {
      if (!operations.has(call.request.name)) return refuse(callback, grpc.status.NOT_FOUND, `Operation ${call.request.name} not found`);
      return callback(null, operationReply(call.request.name));
    },
  });

  /** An execution's task as Cloud Run runs it: the job's, with a named container's args and env and the timeout overridden. */
  function withOverrides(jobTemplate: Record<string, unknown>, overrides: RunOverrides | undefined): Record<string, unknown> | string {
    const task = (jobTemplate as { template?: { containers?: WireContainer[]; timeout?: { seconds?: string } } }).template ?? {};
    const containers = (task.containers ?? []).map((container) => ({ ...container }));
    for (const override of overrides?.containerOverrides ?? []) {
      const container = override.name ? containers.find((c) => c.name === override.name) : containers.length === 1 ? containers[0] : undefined;
      if (!container) return `container override names no container of the job: "${override.name ?? ''}"`;
      if (override.clearArgs) container.args = [];
      else if (override.args?.length) container.args = override.args;
      if (override.env?.length) container.env = [...(container.env ?? []).filter((e) => !override.env!.some((o) => o.name === e.name)), ...override.env];
    }
    return { ...jobTemplate, template: { ...task, containers, ...(overrides?.timeout ? { timeout: overrides.timeout } : {}) } };
  }

  async function runExecution(jobTemplate: Record<string, unknown>, execution: EmulatedExecution): Promise<void> {
    const task = ((jobTemplate as { template?: { containers?: WireContainer[]; volumes?: WireVolume[]; timeout?: { seconds?: string } } }).template ?? {});
    const container = task.containers?.[0];
    if (!runtime || !container?.image) {
      execution.exitCode = 0;
      return;
    }
    const name = `tk-gcpjob-${id}-${shortName(execution.name)}`;
    let gcs: Array<{ folder: string; bucket: string }> = [];
    try {
      const mounted = await mountsOf(task, container);
      gcs = mounted.gcs;
      const timeoutMs = Number(task.timeout?.seconds ?? 600) * 1000;
      const result = await runContainer(
        {
          name,
          image: container.image,
          ...(container.command?.length ? { command: container.command } : {}),
          ...(container.args?.length ? { args: container.args } : {}),
          env: containerEnv(container, { CLOUD_RUN_JOB: shortName(execution.job), CLOUD_RUN_EXECUTION: shortName(execution.name), CLOUD_RUN_TASK_INDEX: '0' }),
          mounts: mounted.mounts,
          labels: { 'org.trapperkeeper.cloud-run-emulator': id },
        },
        timeoutMs,
      );
      execution.exitCode = result.exitCode;
      execution.output = result.output;
      for (const volume of gcs) await uploadFolder(volume.folder, volume.bucket);
    } catch (error) {
      execution.exitCode = execution.exitCode ?? 125;
      execution.output = `${execution.output ?? ''}${(error as Error).message}`;
    } finally {
      await removeContainer(name, 0);
      for (const volume of gcs) rmSync(volume.folder, { recursive: true, force: true });
    }
  }

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );

  const emulator: CloudRunEmulator = {
    host: '127.0.0.1',
    port,
    updates,
    executions,
    calls,
    throttle(method, count) {
      throttles.set(method, count);
    },
    async addService(name, template = {}) {
      const service: EmulatedService = { name, etag: nextEtag(), revisions: [], latestReadyRevision: '', latestCreatedRevision: '', traffic: [{ type: LATEST, percent: 100 }], template, uri: '' };
      service.uri = await startFront(service);
      services.set(name, service);
      // Pulumi's create: the declared template is the first revision, with all the traffic
      // (LATEST), running like any revision; the create waits until it is ready and fails as
      // Cloud Run's operation does when it never is.
      const first = createRevision(service, template);
      first.scaling = scaleUp(first);
      pending.add(first.scaling);
      await first.scaling;
      if (first.state === 'failed') throw new Error(`Creating service ${name} failed: ${first.failure ?? 'its first revision is not ready'}`);
      service.latestReadyRevision = first.name;
      return service;
    },
    createRevision(name) {
      const service = emulator.service(name);
      const revision = createRevision(service, { ...service.template, revision: '', containers: (service.template.containers ?? []).map((c) => ({ ...c, image: '' })) });
      revision.state = 'ready';
      service.latestReadyRevision = revision.name;
      return revision.name;
    },
    addJob(name, template) {
      jobs.set(name, { name, template, etag: nextEtag(), createTime: new Date() });
    },
    jobTemplate(name) {
      const job = jobs.get(name);
      if (!job) throw new Error(`no emulated job ${name}`);
      return job.template;
    },
    service(name) {
      const service = services.get(name);
      if (!service) throw new Error(`no emulated service ${name}`);
      return service;
    },
    revision(service, revision) {
      const found = revisions.get(revisionKey(service, revision));
      if (!found) throw new Error(`no emulated revision ${revision} of ${service}`);
      return found;
    },
    async stop() {
      stopping = true;
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      for (const front of fronts) front.close();
      await Promise.allSettled([...pending]);
      if (runtime) await removeLabelled(label);
      await connector?.close();
    },
  };
  return emulator;
}
