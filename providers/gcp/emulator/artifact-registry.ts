/**
 * Test fixture (not exported by the barrel): the part of the Artifact Registry API v1 that the
 * GCP images port uses, served over gRPC on 127.0.0.1 from the official protos that
 * @google-cloud/artifact-registry ships, so the real ArtifactRegistryClient talks to it with its
 * own wire format, long-running operations included.
 *
 * ArtifactRegistry.GetTag / GetDockerImage / ListDockerImages (paged) / DeleteVersion (a
 * long-running operation; a version that still has tags is refused without `force`, as Artifact
 * Registry refuses it), Operations.GetOperation. Images are pushed with `push` (what `docker push`
 * does to a registry): a digest, tags (a tag moves to the newest image pushed with it), an upload time.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { artifactImageOf } from '../images/artifact-registry-images.js';

process.env.METADATA_SERVER_DETECTION = 'none';
const require = createRequire(import.meta.url);
const AR_PROTOS = join(dirname(require.resolve('@google-cloud/artifact-registry/package.json')), 'build', 'protos');
const GAX_PROTOS = join(dirname(require.resolve('google-gax')), '..', 'protos');
const PROTOS = ['google/devtools/artifactregistry/v1/service.proto', 'google/longrunning/operations.proto'];

export interface EmulatedImage {
  /** projects/<p>/locations/<l>/repositories/<r> */
  repository: string;
  image: string;
  digest: string;
  tags: string[];
  uploadTime: Date;
}

export interface ArtifactRegistryEmulator {
  host: string;
  port: number;
  /** What `docker push <ref>` leaves: the image (a new digest unless given) tagged with the ref's tag. */
  push(ref: string, options?: { uploadTime?: Date; digest?: string }): EmulatedImage;
  /** Every image still stored, tagged or not. */
  images(): EmulatedImage[];
  /** The method names called, in order. */
  calls: string[];
  stop(): Promise<void>;
}

type Call<T> = grpc.ServerUnaryCall<T, unknown>;
type Callback = grpc.sendUnaryData<unknown>;
const refuse = (callback: Callback, code: grpc.status, details: string) => callback({ code, details, name: 'Error', message: details });
const timestamp = (date: Date) => ({ seconds: String(Math.floor(date.getTime() / 1000)), nanos: (date.getTime() % 1000) * 1e6 });

export async function startArtifactRegistryEmulator(): Promise<ArtifactRegistryEmulator> {
  const definition = protoLoader.loadSync(PROTOS, { includeDirs: [AR_PROTOS, GAX_PROTOS], keepCase: false, enums: String, longs: String, defaults: false, oneofs: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    google: { devtools: { artifactregistry: { v1: { ArtifactRegistry: { service: grpc.ServiceDefinition } } } }; longrunning: { Operations: { service: grpc.ServiceDefinition } } };
  };
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => [AR_PROTOS, GAX_PROTOS].map((dir) => join(dir, target)).find((path) => existsSync(path)) ?? target;
  await root.load(PROTOS, { keepCase: false });
  const pack = (type: string, value: object) => {
    const message = root.lookupType(type);
    return { typeUrl: `type.googleapis.com/${type}`, value: Buffer.from(message.encode(message.fromObject(value)).finish()) };
  };

  const id = randomBytes(3).toString('hex');
  const stored: EmulatedImage[] = [];
  const operations = new Map<string, { name: string; done: boolean; response?: { typeUrl: string; value: Buffer }; metadata?: { typeUrl: string; value: Buffer } }>();
  const calls: string[] = [];
  let counter = 0;

  const packageName = (image: EmulatedImage) => `${image.repository}/packages/${encodeURIComponent(image.image)}`;
  const hostOf = (repository: string) => {
    const [, project, , location, , name] = repository.split('/');
    return `${location}-docker.pkg.dev/${project}/${name}`;
  };
  const wireImage = (image: EmulatedImage) => ({
    name: `${image.repository}/dockerImages/${encodeURIComponent(image.image)}@${image.digest}`,
    uri: `${hostOf(image.repository)}/${image.image}@${image.digest}`,
    tags: image.tags,
    imageSizeBytes: '1024',
    uploadTime: timestamp(image.uploadTime),
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    updateTime: timestamp(image.uploadTime),
  });

  const server = new grpc.Server();
  server.addService(loaded.google.devtools.artifactregistry.v1.ArtifactRegistry.service, {
    GetTag(call: Call<{ name: string }>, callback: Callback) {
      calls.push('GetTag');
      const image = stored.find((candidate) => candidate.tags.some((tag) => `${packageName(candidate)}/tags/${tag}` === call.request.name));
      if (!image) return refuse(callback, grpc.status.NOT_FOUND, `Requested entity was not found: tag ${call.request.name}`);
      return callback(null, { name: call.request.name, version: `${packageName(image)}/versions/${image.digest}` });
    },
    GetDockerImage(call: Call<{ name: string }>, callback: Callback) {
      calls.push('GetDockerImage');
      const image = stored.find((candidate) => wireImage(candidate).name === call.request.name);
      if (!image) return refuse(callback, grpc.status.NOT_FOUND, `Requested entity was not found: ${call.request.name}`);
      return callback(null, wireImage(image));
    },
    ListDockerImages(call: Call<{ parent: string; pageSize?: number; pageToken?: string }>, callback: Callback) {
      calls.push('ListDockerImages');
      const all = stored.filter((image) => image.repository === call.request.parent);
      const size = call.request.pageSize && call.request.pageSize > 0 ? Math.min(call.request.pageSize, 2) : 2; // small pages: the client must page
      const from = call.request.pageToken ? Number(call.request.pageToken) : 0;
      const page = all.slice(from, from + size);
      return callback(null, { dockerImages: page.map(wireImage), ...(from + size < all.length ? { nextPageToken: String(from + size) } : {}) });
    },
    DeleteVersion(call: Call<{ name: string; force?: boolean }>, callback: Callback) {
      calls.push('DeleteVersion');
      const at = stored.findIndex((candidate) => `${packageName(candidate)}/versions/${candidate.digest}` === call.request.name);
      if (at < 0) return refuse(callback, grpc.status.NOT_FOUND, `Requested entity was not found: version ${call.request.name}`);
      if (stored[at]!.tags.length > 0 && !call.request.force) return refuse(callback, grpc.status.FAILED_PRECONDITION, 'Version has tags; delete them first or set force');
      stored.splice(at, 1);
      const [, project, , location] = call.request.name.split('/');
      const name = `projects/${project}/locations/${location}/operations/${id}-${++counter}`;
      const operation = { name, done: true, response: pack('google.protobuf.Empty', {}), metadata: pack('google.devtools.artifactregistry.v1.OperationMetadata', {}) };
      operations.set(name, operation);
      return callback(null, operation);
    },
  });
  server.addService(loaded.google.longrunning.Operations.service, {
    GetOperation(call: Call<{ name: string }>, callback: Callback) {
      calls.push('GetOperation');
      const operation = operations.get(call.request.name);
      if (!operation) return refuse(callback, grpc.status.NOT_FOUND, `Operation ${call.request.name} not found`);
      return callback(null, operation);
    },
  });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );

  return {
    host: '127.0.0.1',
    port,
    calls,
    push(ref, options = {}) {
      const parsed = artifactImageOf(ref);
      for (const image of stored) if (image.repository === parsed.repository && image.image === parsed.image) image.tags = image.tags.filter((tag) => tag !== parsed.tag);
      const digest = options.digest ?? `sha256:${createHash('sha256').update(`${ref}:${++counter}:${id}`).digest('hex')}`;
      const existing = stored.find((image) => image.repository === parsed.repository && image.image === parsed.image && image.digest === digest);
      if (existing) {
        existing.tags.push(parsed.tag);
        return existing;
      }
      const image: EmulatedImage = { repository: parsed.repository, image: parsed.image, digest, tags: [parsed.tag], uploadTime: options.uploadTime ?? new Date() };
      stored.push(image);
      return image;
    },
    images: () => stored.map((image) => ({ ...image, tags: [...image.tags] })),
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
