import { status } from '@grpc/grpc-js';

/** A refusal a handler answers with: the gRPC status code and the message the caller sees. */
export class CallError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.name = 'CallError';
  }
}

/** The status code's name (`OK`, `UNAUTHENTICATED`): the `code` label of the gRPC metrics. */
export function statusName(code: status): string {
  return status[code] ?? String(code);
}
