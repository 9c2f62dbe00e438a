import { connect, type ClientHttp2Session } from 'node:http2';
import { API_KEY_METADATA } from '../../src/grpc/auth.js';
import { loadSensorApiDefinition, SENSOR_API_SERVICE } from '../../src/grpc/proto.js';
import type { WireMessage } from '../support/sensor-client.js';

/**
 * A ReportEvents call that is certainly in flight on the server and cannot finish until the
 * test says so: the request is sent as raw HTTP/2 (as any gRPC client does) with only part of
 * its message, then held. Shutdown tests send SIGTERM while such calls are open, then release
 * them; a server that drains answers every one, a server that just exits fails them all.
 */
export interface HeldCall {
  /** Sends the rest of the message; the server can then answer. */
  release(): void;
  /** The call's outcome: the gRPC status (0 = OK) and the decoded response when OK. */
  result: Promise<{ grpcStatus: number; grpcMessage: string; response?: WireMessage }>;
  close(): void;
}

const method = loadSensorApiDefinition().service.ReportEvents!;

function ping(session: ClientHttp2Session): Promise<void> {
  return new Promise((resolve, reject) => {
    session.ping((error) => (error ? reject(error) : resolve()));
  });
}

function grpcFrame(message: Buffer): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt8(0, 0); // not compressed
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

/**
 * Opens the call on its own connection and resolves once the server has certainly read the
 * call's headers and the first part of its message: two PING round trips after writing them
 * (the frames are sent before the second PING, and the server reads frames in order).
 */
export async function startHeldReportEvents(port: number, apiKey: string, request: WireMessage): Promise<HeldCall> {
  const frame = grpcFrame(method.requestSerialize(request));
  const split = Math.floor(frame.length / 2);
  const session = connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {}); // reported through the stream
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  const stream = session.request({
    ':method': 'POST',
    ':path': `/${SENSOR_API_SERVICE}/ReportEvents`,
    'content-type': 'application/grpc',
    te: 'trailers',
    [API_KEY_METADATA]: apiKey,
  });
  const result = new Promise<{ grpcStatus: number; grpcMessage: string; response?: WireMessage }>((resolve) => {
    const chunks: Buffer[] = [];
    let headerStatus: string | undefined;
    let headerMessage = '';
    stream.on('response', (headers) => {
      // A "trailers-only" answer carries the status in the headers.
      if (headers['grpc-status'] !== undefined) headerStatus = String(headers['grpc-status']);
      headerMessage = String(headers['grpc-message'] ?? '');
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    let trailerStatus: string | undefined;
    let trailerMessage = '';
    stream.on('trailers', (trailers) => {
      trailerStatus = String(trailers['grpc-status']);
      trailerMessage = String(trailers['grpc-message'] ?? '');
    });
    stream.on('close', () => {
      const status = trailerStatus ?? headerStatus;
      const message = decodeURIComponent(trailerStatus !== undefined ? trailerMessage : headerMessage);
      if (status === undefined) {
        resolve({ grpcStatus: -1, grpcMessage: `stream closed without a gRPC status (rst code ${stream.rstCode ?? 'none'})` });
        return;
      }
      const body = Buffer.concat(chunks);
      const response = Number(status) === 0 && body.length >= 5
        ? (method.responseDeserialize(body.subarray(5, 5 + body.readUInt32BE(1))) as WireMessage)
        : undefined;
      resolve({ grpcStatus: Number(status), grpcMessage: message, ...(response ? { response } : {}) });
    });
    stream.on('error', () => {}); // ends in 'close' without a status
  });
  stream.write(frame.subarray(0, split));
  await ping(session);
  await ping(session);
  return {
    release: () => {
      if (!stream.destroyed) stream.end(frame.subarray(split));
    },
    result,
    close: () => session.destroy(),
  };
}
