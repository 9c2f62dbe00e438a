import * as grpc from '@grpc/grpc-js';
import { API_KEY_METADATA } from '../src/grpc/auth.js';
import { encodeRequests } from './encoded-requests.js';
import { buildEventPool } from './event-batches.js';
import { closedLoop, type LoadPlan, type LoadResult } from './load-loop.js';
import { reportEventsCodec, type ReportEventsReply } from './report-events-codec.js';

/** Everything a gRPC load needs, as plain data (it crosses into the client process). */
export interface GrpcLoadSpec {
  port: number;
  apiKey: string;
  streams: number;
  batchSize: number;
  plan: LoadPlan;
  warmupBatchesPerStream: number;
  payloadPoolSize: number;
  payloadSeed: number;
}

/** A load with an untimed warm-up, then timed runs (each continuing the last one's batch sequence). */
export interface LoadDriver {
  warmup(): Promise<void>;
  run(): Promise<LoadResult>;
  close(): Promise<void>;
}

const CALL_DEADLINE_MS = 60_000;
const WARMUP_LABEL = 'warmup';
const TIMED_LABEL = 'timed';

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_send_message_length': -1,
  'grpc.max_receive_message_length': -1,
  // Each client gets its own connection, as separate sensors would (grpc-js otherwise shares
  // one between clients of the same target in a process).
  'grpc.use_local_subchannel_pool': 1,
};

/** The request is already encoded (see encoded-requests.ts); the response is read by readAcceptedCount. */
const asIs = (bytes: Buffer): Buffer => bytes;

function notAllAccepted(reply: ReportEventsReply, batchSize: number): Error {
  const rejection = reply.results.find((result) => result.status !== 'EVENT_STATUS_ACCEPTED');
  const reason = rejection ? `; ${rejection.eventId}: ${rejection.errorMessage}` : '';
  return new Error(`a batch of ${batchSize} came back with ${reply.acceptedCount} accepted${reason}`);
}

/**
 * `streams` sensors, each on its own connection, each sending its next ReportEvents batch when
 * the last one was acknowledged. Every request is encoded before the load starts; a sensor's
 * work per batch is copying it, stamping its event ids, HTTP/2 and reading accepted_count.
 * Every batch must be accepted whole.
 */
export function createGrpcLoad(spec: GrpcLoadSpec): LoadDriver {
  const codec = reportEventsCodec();
  const requests = encodeRequests({
    codec,
    pool: buildEventPool(spec.payloadPoolSize, spec.payloadSeed),
    batchSize: spec.batchSize,
    labels: [WARMUP_LABEL, TIMED_LABEL],
    streams: spec.streams,
  });
  const credentials = grpc.credentials.createInsecure();
  const clients = Array.from({ length: spec.streams }, () => new grpc.Client(`127.0.0.1:${spec.port}`, credentials, CHANNEL_OPTIONS));
  const metadata = new grpc.Metadata();
  metadata.set(API_KEY_METADATA, spec.apiKey);

  const send = (worker: number, label: string, sequence: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const client = clients[worker];
      if (!client) throw new Error(`no client for sensor ${worker}`);
      client.makeUnaryRequest<Buffer, Buffer>(
        codec.path,
        asIs,
        asIs,
        requests.request(label, sequence, worker),
        metadata.clone(),
        { deadline: Date.now() + CALL_DEADLINE_MS },
        (error, response) => {
          if (error || !response) reject(error ?? new Error('ReportEvents answered without a response'));
          else if (codec.readAcceptedCount(response) !== spec.batchSize) reject(notAllAccepted(codec.decodeResponse(response), spec.batchSize));
          else resolve();
        },
      );
    });
  return {
    warmup: async () => {
      await Promise.all(
        clients.map(async (_, worker) => {
          for (let batch = 0; batch < spec.warmupBatchesPerStream; batch++) {
            await send(worker, WARMUP_LABEL, worker * spec.warmupBatchesPerStream + batch);
          }
        }),
      );
    },
    run: closedLoop(spec.streams, spec.plan, (sequence, worker) => send(worker, TIMED_LABEL, sequence)),
    close: async () => clients.forEach((client) => client.close()),
  };
}
