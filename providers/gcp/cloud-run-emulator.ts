/**
 * Test fixture (not exported by the barrel): the part of the Cloud Run Admin API v2 that the GCP
 * release uses for traffic (Services.GetService, Services.UpdateService with an update mask),
 * served over gRPC on 127.0.0.1 from the official protos that @google-cloud/run ships, so the
 * real ServicesClient talks to it with its own wire format. It keeps what Cloud Run keeps for
 * traffic: revisions, the latest ready one, the traffic blocks with LATEST resolved as Cloud Run
 * resolves it, and an etag that an update must match; it refuses what Cloud Run refuses
 * (percentages not adding up to 100, an unknown revision, a tag used twice).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

// Google's auth library otherwise probes the GCE metadata server (169.254.169.254) to find
// credentials; tests talk to 127.0.0.1 only.
process.env.METADATA_SERVER_DETECTION = 'none';
const require = createRequire(import.meta.url);
const RUN_PROTOS = join(dirname(require.resolve('@google-cloud/run/package.json')), 'build', 'protos');
// google-gax exports no package.json; its protos sit beside its entry point (build/src/index.js).
const GAX_PROTOS = join(dirname(require.resolve('google-gax')), '..', 'protos');
const SERVICE_PROTO = 'google/cloud/run/v2/service.proto';

interface Traffic {
  type?: string;
  revision?: string;
  percent?: number;
  tag?: string;
}

export interface EmulatedService {
  name: string;
  etag: string;
  revisions: string[];
  latestReadyRevision: string;
  traffic: Traffic[];
}

export interface CloudRunEmulator {
  /** `127.0.0.1`, for the client's apiEndpoint, and the port. */
  host: string;
  port: number;
  /** Full name projects/<p>/locations/<r>/services/<s>; the service starts with one revision on LATEST. */
  addService(name: string): EmulatedService;
  /** What the release's template update will do: a new ready revision (LATEST blocks follow it). */
  createRevision(service: string): string;
  service(name: string): EmulatedService;
  /** Every UpdateService request, as received. */
  updates: Array<{ service: string; paths: string[] }>;
  stop(): Promise<void>;
}

export async function startCloudRunEmulator(): Promise<CloudRunEmulator> {
  const definition = protoLoader.loadSync(SERVICE_PROTO, { includeDirs: [RUN_PROTOS, GAX_PROTOS], keepCase: false, enums: String, longs: String, defaults: false, oneofs: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { google: { cloud: { run: { v2: { Services: { service: grpc.ServiceDefinition } } } } } };
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => [RUN_PROTOS, GAX_PROTOS].map((dir) => join(dir, target)).find((path) => existsSync(path)) ?? target;
  await root.load(SERVICE_PROTO, { keepCase: false });
  const ServiceType = root.lookupType('google.cloud.run.v2.Service');

  const services = new Map<string, EmulatedService>();
  const counters = new Map<string, number>();
  const updates: CloudRunEmulator['updates'] = [];
  let etagCounter = 0;
  const nextEtag = () => `"etag-${++etagCounter}"`;
  const shortName = (name: string) => name.slice(name.lastIndexOf('/') + 1);

  const wire = (service: EmulatedService) => ({
    name: service.name,
    etag: service.etag,
    latestReadyRevision: `${service.name}/revisions/${service.latestReadyRevision}`,
    latestCreatedRevision: `${service.name}/revisions/${service.latestReadyRevision}`,
    traffic: service.traffic.map((t) => ({ ...t })),
    trafficStatuses: service.traffic.map((t) => ({ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: t.type === 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST' ? service.latestReadyRevision : t.revision, percent: t.percent ?? 0, tag: t.tag ?? '' })),
  });

  const refuse = (callback: grpc.sendUnaryData<unknown>, code: grpc.status, details: string) => callback({ code, details, name: 'Error', message: details });

  const server = new grpc.Server();
  server.addService(loaded.google.cloud.run.v2.Services.service, {
    GetService(call: grpc.ServerUnaryCall<{ name: string }, unknown>, callback: grpc.sendUnaryData<unknown>) {
      const service = services.get(call.request.name);
      if (!service) return refuse(callback, grpc.status.NOT_FOUND, `Service ${call.request.name} not found`);
      return callback(null, wire(service));
    },
    UpdateService(call: grpc.ServerUnaryCall<{ service: { name: string; etag?: string; traffic?: Traffic[] }; updateMask?: { paths?: string[] } }, unknown>, callback: grpc.sendUnaryData<unknown>) {
      const request = call.request;
      const service = services.get(request.service.name);
      if (!service) return refuse(callback, grpc.status.NOT_FOUND, `Service ${request.service.name} not found`);
      const paths = request.updateMask?.paths ?? [];
      updates.push({ service: service.name, paths });
      if (request.service.etag && request.service.etag !== service.etag) return refuse(callback, grpc.status.ABORTED, 'the service was modified since it was read (etag mismatch)');
      if (paths.some((path) => path !== 'traffic')) return refuse(callback, grpc.status.UNIMPLEMENTED, `the emulator updates traffic only, not ${paths.join(', ')}`);
      const traffic = (request.service.traffic ?? []).map((t) => ({ type: t.type, revision: t.revision ? shortName(t.revision) : undefined, percent: t.percent ?? 0, tag: t.tag || undefined }));
      const total = traffic.reduce((sum, t) => sum + t.percent, 0);
      if (total !== 100) return refuse(callback, grpc.status.INVALID_ARGUMENT, `traffic percentages add up to ${total}, not 100`);
      const unknown = traffic.find((t) => t.type !== 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST' && !service.revisions.includes(t.revision ?? ''));
      if (unknown) return refuse(callback, grpc.status.INVALID_ARGUMENT, `revision ${unknown.revision ?? '(none)'} does not exist`);
      const tags = traffic.map((t) => t.tag).filter(Boolean);
      if (new Set(tags).size !== tags.length) return refuse(callback, grpc.status.INVALID_ARGUMENT, 'a traffic tag is used more than once');
      service.traffic = traffic.map((t) => Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)) as Traffic);
      service.etag = nextEtag();
      const packed = ServiceType.encode(ServiceType.fromObject(wire(service))).finish();
      return callback(null, {
        name: `${service.name}/operations/${etagCounter}`,
        done: true,
        response: { typeUrl: 'type.googleapis.com/google.cloud.run.v2.Service', value: Buffer.from(packed) },
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );

  const emulator: CloudRunEmulator = {
    host: '127.0.0.1',
    port,
    updates,
    addService(name) {
      counters.set(name, 1);
      const first = `${shortName(name)}-00001`;
      const service: EmulatedService = { name, etag: nextEtag(), revisions: [first], latestReadyRevision: first, traffic: [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 100 }] };
      services.set(name, service);
      return service;
    },
    createRevision(name) {
      const service = emulator.service(name);
      const next = (counters.get(name) ?? 0) + 1;
      counters.set(name, next);
      const revision = `${shortName(name)}-${String(next).padStart(5, '0')}`;
      service.revisions.push(revision);
      service.latestReadyRevision = revision;
      service.etag = nextEtag();
      return revision;
    },
    service(name) {
      const service = services.get(name);
      if (!service) throw new Error(`no emulated service ${name}`);
      return service;
    },
    stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
  return emulator;
}
