import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { API_KEY_METADATA } from '../../src/grpc/auth.js';
import { loadSensorApiDefinition, PROTO_LOADER_OPTIONS, SENSOR_API_SERVICE } from '../../src/grpc/proto.js';

/**
 * A real sensor-side gRPC client, generated at run time from app/proto (as a sensor built
 * from the upstream protos would be), plus a grpc.health.v1 client for the same port.
 */
export interface CallOptions {
  apiKey?: string;
  /** Extra request metadata, e.g. { 'if-none-match': etag }. */
  metadata?: Record<string, string>;
  /** @default 5000 */
  deadlineMs?: number;
}

export interface CallResult<T> {
  response: T;
  /** The response's initial metadata (headers). */
  headers: grpc.Metadata;
}

/** Loosely typed wire objects: tests assert on their shape. */
export type WireMessage = Record<string, any>;

export interface SensorClient {
  syncRules(request: WireMessage, options?: CallOptions): Promise<CallResult<WireMessage>>;
  reportEvents(request: WireMessage, options?: CallOptions): Promise<CallResult<WireMessage>>;
  /** ReportEvents with these exact request bytes, as a hand-written or broken sensor may send. */
  reportEventsRaw(request: Buffer, options?: CallOptions): Promise<CallResult<WireMessage>>;
  /** grpc.health.v1.Health/Check for `service` ('' = the whole server); resolves to the status name. */
  healthCheck(service?: string, options?: CallOptions): Promise<string>;
  close(): void;
}

type UnaryMethod = (
  request: WireMessage,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: WireMessage) => void,
) => grpc.ClientUnaryCall;

function requestMetadata(options: CallOptions): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (options.apiKey !== undefined) metadata.set(API_KEY_METADATA, options.apiKey);
  for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);
  return metadata;
}

function callUnary(client: grpc.Client, name: string, request: WireMessage, options: CallOptions = {}): Promise<CallResult<WireMessage>> {
  const method = (client as unknown as Record<string, UnaryMethod>)[name];
  if (!method) throw new Error(`the client has no method ${name}`);
  return new Promise((resolve, reject) => {
    let headers = new grpc.Metadata();
    const call = method.call(
      client,
      request,
      requestMetadata(options),
      { deadline: Date.now() + (options.deadlineMs ?? 5000) },
      (error, response) => {
        if (error) reject(error);
        else resolve({ response: response ?? {}, headers });
      },
    );
    call.on('metadata', (metadata: grpc.Metadata) => {
      headers = metadata;
    });
  });
}

/** A client of ReportEvents that sends request bytes as given and decodes the response as a sensor does. */
function rawReportEventsClient(target: string, credentials: grpc.ChannelCredentials, channelOptions: grpc.ChannelOptions): grpc.Client {
  const method = loadSensorApiDefinition().service.ReportEvents as unknown as grpc.MethodDefinition<unknown, unknown>;
  const identity = (bytes: Buffer) => bytes;
  const Raw = grpc.makeGenericClientConstructor(
    { ReportEvents: { ...method, requestSerialize: identity, requestDeserialize: identity } },
    'RawReportEvents',
  );
  return new Raw(target, credentials, channelOptions);
}

function loadHealthClientConstructor(): grpc.ServiceClientConstructor {
  const definition = protoLoader.loadSync(healthProtoPath, PROTO_LOADER_OPTIONS);
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
  };
  return loaded.grpc.health.v1.Health;
}

/** gRPC over TLS: the roots to trust and the name the certificate is for (SNI and :authority). */
export interface SensorClientTls {
  ca: string;
  serverName: string;
}

export function connectSensorClient(port: number, host = '127.0.0.1', tls?: SensorClientTls): SensorClient {
  const { packageDefinition } = loadSensorApiDefinition();
  const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as {
    trapperkeeper: { sensor: { v1: { SensorAPI: grpc.ServiceClientConstructor } } };
  };
  const target = `${host}:${port}`;
  const credentials = tls ? grpc.credentials.createSsl(Buffer.from(tls.ca)) : grpc.credentials.createInsecure();
  // Each client gets its own connection, as separate sensors would (grpc-js otherwise
  // shares one between clients of the same target in a process).
  const channelOptions = {
    'grpc.max_send_message_length': -1,
    'grpc.max_receive_message_length': -1,
    'grpc.use_local_subchannel_pool': 1,
    ...(tls ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName } : {}),
  };
  const sensor = new loaded.trapperkeeper.sensor.v1.SensorAPI(target, credentials, channelOptions);
  const health = new (loadHealthClientConstructor())(target, credentials, channelOptions);
  const raw = rawReportEventsClient(target, credentials, channelOptions);
  return {
    syncRules: (request, options) => callUnary(sensor, 'SyncRules', request, options),
    reportEvents: (request, options) => callUnary(sensor, 'ReportEvents', request, options),
    reportEventsRaw: (request, options) => callUnary(raw, 'ReportEvents', request as unknown as WireMessage, options),
    healthCheck: async (service = '', options = {}) => {
      const { response } = await callUnary(health, 'Check', { service }, options);
      return String(response.status);
    },
    close: () => {
      sensor.close();
      health.close();
      raw.close();
    },
  };
}

/** The gRPC error a call failed with; fails the test when the call succeeded. */
export async function callFailure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/**
 * One call of a SensorAPI method with these exact request bytes (what a careless or hostile
 * client can send), on a connection of its own; resolves to the response bytes.
 */
export async function callWithBytes(
  port: number,
  method: 'SyncRules' | 'ReportEvents',
  request: Buffer,
  options: CallOptions = {},
): Promise<Buffer> {
  const identity = (bytes: Buffer) => bytes;
  const Raw = grpc.makeGenericClientConstructor(
    {
      [method]: {
        path: `/${SENSOR_API_SERVICE}/${method}`,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    'RawSensorAPI',
  );
  const raw = new Raw(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      (raw as unknown as Record<string, (...args: unknown[]) => void>)[method]!(
        request,
        requestMetadata(options),
        { deadline: Date.now() + (options.deadlineMs ?? 5000) },
        (error: grpc.ServiceError | null, response: Buffer) => (error ? reject(error) : resolve(response)),
      );
    });
  } finally {
    raw.close();
  }
}
