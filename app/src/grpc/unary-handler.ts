import { status, type Metadata, type ServerUnaryCall, type handleUnaryCall } from '@grpc/grpc-js';
import type { Logger } from '../log/logger.js';
import { logRefusal } from '../log/refusal-log.js';
import { CallError } from './call-error.js';

export interface UnaryReply<Response> {
  response: Response;
  /** Sent as the response's initial metadata (headers). */
  headers?: Metadata;
}

/**
 * Adapts an async handler to grpc-js: a CallError becomes its status; anything else is
 * logged and answered INTERNAL, never leaking its message. (Counting and timing calls is
 * the job of callMetricsInterceptor, which also sees calls that never reach a handler.)
 */
export function unaryHandler<Request, Response>(
  method: string,
  logger: Logger,
  handle: (call: ServerUnaryCall<Request, Response>) => Promise<UnaryReply<Response>>,
): handleUnaryCall<Request, Response> {
  return (call, callback) => {
    handle(call).then(
      ({ response, headers }) => {
        if (headers) call.sendMetadata(headers);
        callback(null, response);
      },
      (error: unknown) => {
        if (error instanceof CallError) {
          callback({ code: error.code, details: error.message });
          return;
        }
        logRefusal(logger, 'error', call.getPeer(), { err: error, method }, 'sensor API call failed');
        callback({ code: status.INTERNAL, details: 'internal error' });
      },
    );
  };
}
