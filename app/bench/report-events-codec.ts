import type { MethodDefinition } from '@grpc/proto-loader';
import protobuf from 'protobufjs/minimal.js';
import { loadSensorApiDefinition, SENSOR_API_SERVICE } from '../src/grpc/proto.js';

/** ReportEventsResponse as proto-loader decodes it (PROTO_LOADER_OPTIONS: defaults filled in). */
export interface ReportEventsReply {
  acceptedCount: number;
  rejectedCount: number;
  results: { eventId: string; status: string; errorMessage: string }[];
}

/**
 * ReportEvents as a sensor built from app/proto encodes and decodes it: proto-loader's
 * (protobufjs) serializers for the request and response messages, and the call's path.
 */
export interface ReportEventsCodec {
  path: string;
  encodeRequest(request: Record<string, unknown>): Buffer;
  decodeRequest(bytes: Buffer): Record<string, unknown>;
  decodeResponse(bytes: Buffer): ReportEventsReply;
  /** Only the response's accepted_count, skipping the per-event results: all a sensor of the benchmark reads. */
  readAcceptedCount(bytes: Buffer): number;
  /** The server's side, for timing decodeResponse on a realistic response. */
  encodeResponse(response: ReportEventsReply): Buffer;
}

/** ReportEventsResponse.accepted_count: field 2, varint. */
const ACCEPTED_COUNT_TAG = (2 << 3) | 0;

function readAcceptedCount(bytes: Buffer): number {
  const reader = protobuf.Reader.create(bytes);
  let accepted = 0;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === ACCEPTED_COUNT_TAG) accepted = reader.int32();
    else reader.skipType(tag & 7);
  }
  return accepted;
}

type ReportEventsMethod = MethodDefinition<Record<string, unknown>, ReportEventsReply>;

export function reportEventsCodec(): ReportEventsCodec {
  const { packageDefinition } = loadSensorApiDefinition();
  const service = packageDefinition[SENSOR_API_SERVICE] as unknown as Record<string, ReportEventsMethod | undefined>;
  const method = service.ReportEvents;
  if (!method) throw new Error(`${SENSOR_API_SERVICE} has no ReportEvents method`);
  return {
    path: method.path,
    encodeRequest: (request) => method.requestSerialize(request),
    decodeRequest: (bytes) => method.requestDeserialize(bytes),
    decodeResponse: (bytes) => method.responseDeserialize(bytes),
    readAcceptedCount,
    encodeResponse: (response) => method.responseSerialize(response),
  };
}
